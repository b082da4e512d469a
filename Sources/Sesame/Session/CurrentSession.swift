/// The session of the request being handled, as a task-local value: SST's `useSession`.
///
/// Integrations run each request's handler inside ``SessionResolution/withCurrent(_:)``, so that
/// `Session<AppSession>.current` works anywhere below the session middleware: in route handlers, services,
/// GraphQL resolvers, without passing the session around.
@usableFromInline
enum CurrentSession {
    /// The current request's resolution, boxed (or, when it is a session and nothing else, the session's
    /// storage) so that reading it back is a class cast.
    @usableFromInline static let box = TaskLocal<(any AnyObject & Sendable)?>(wrappedValue: nil)

    @usableFromInline
    final class Box<Subject: SessionSubject>: Sendable {
        @usableFromInline let resolution: SessionResolution<Subject>
        @usableFromInline init(_ resolution: SessionResolution<Subject>) { self.resolution = resolution }
    }
}

extension Session {
    /// The session of the request being handled, or `nil` outside a request or when it has none.
    @inlinable
    public static var current: Session<Subject>? {
        SessionResolution<Subject>.current?.session
    }

    /// Runs `operation` with `session` as ``current``.
    ///
    /// - Parameters:
    ///   - session: The session, or `nil`.
    ///   - operation: The work to run.
    /// - Returns: The operation's result.
    @inlinable
    public static func withCurrent<Result>(_ session: Session<Subject>?, operation: () async throws -> Result) async rethrows -> Result {
        try await SessionResolution(session: session, failure: nil, responseFields: []).withCurrent(operation)
    }
}

extension SessionResolution {
    /// The resolution of the request being handled, or `nil` outside a request.
    @inlinable
    public static var current: SessionResolution<Subject>? {
        switch CurrentSession.box.get() {
        case let box as CurrentSession.Box<Subject>: box.resolution
        case let storage as Session<Subject>.Storage: SessionResolution(session: Session(storage: storage), failure: nil, responseFields: [])
        default: nil
        }
    }

    /// What the task-local holds for this resolution: when it is a session and nothing else (the usual
    /// request), the session's own storage, which costs no allocation; else a box.
    @inlinable
    var currentValue: any AnyObject & Sendable {
        if let session, failure == nil, responseFields.isEmpty, state == nil { return session.storage }
        return CurrentSession.Box(self)
    }

    /// Runs `operation` with this resolution (and its session) as the current one.
    ///
    /// - Parameter operation: The work to run.
    /// - Returns: The operation's result.
    @inlinable
    public func withCurrent<Result>(_ operation: () async throws -> Result) async rethrows -> Result {
        try await CurrentSession.box.withValue(currentValue, operation: operation)
    }

    /// Runs synchronous `operation` with this resolution (and its session) as the current one.
    ///
    /// Tasks that `operation` starts (`Task { … }`) see it too: they copy the task-locals bound here.
    ///
    /// - Parameter operation: The work to run.
    /// - Returns: What `operation` returns.
    /// - Throws: What `operation` throws.
    @inlinable
    public func withCurrent<Result>(_ operation: () throws -> Result) rethrows -> Result {
        try CurrentSession.box.withValue(currentValue, operation: operation)
    }
}
