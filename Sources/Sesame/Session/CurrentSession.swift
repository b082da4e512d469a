/// The session of the request being handled, as a task-local value: SST's `useSession`.
///
/// Integrations run each request's handler inside ``SessionResolution/withCurrent(_:)``, so that
/// `Session<AppSession>.current` works anywhere below the session middleware: in route handlers, services,
/// GraphQL resolvers, without passing the session around.
enum CurrentSession {
    /// The current request's `SessionResolution<Subject>`.
    @TaskLocal static var resolution: (any Sendable)?
}

extension Session {
    /// The session of the request being handled, or `nil` outside a request or when it has none.
    public static var current: Session<Subject>? {
        SessionResolution<Subject>.current?.session
    }

    /// Runs `operation` with `session` as ``current``.
    ///
    /// - Parameters:
    ///   - session: The session, or `nil`.
    ///   - operation: The work to run.
    /// - Returns: The operation's result.
    public static func withCurrent<Result>(_ session: Session<Subject>?, operation: () async throws -> Result) async rethrows -> Result {
        try await SessionResolution(session: session, failure: nil, responseFields: []).withCurrent(operation)
    }
}

extension SessionResolution {
    /// The resolution of the request being handled, or `nil` outside a request.
    public static var current: SessionResolution<Subject>? {
        CurrentSession.resolution as? SessionResolution<Subject>
    }

    /// Runs `operation` with this resolution (and its session) as the current one.
    ///
    /// - Parameter operation: The work to run.
    /// - Returns: The operation's result.
    public func withCurrent<Result>(_ operation: () async throws -> Result) async rethrows -> Result {
        try await CurrentSession.$resolution.withValue(self, operation: operation)
    }
}
