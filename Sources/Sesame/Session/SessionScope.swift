/// A request's session as `AuthSession.current` and a store's ``StoredSessionData`` see it while the handler runs.
///
/// ``SessionFlow`` hands one out for each request it lets through; the integration runs the handler in it. It is a
/// value, so an integration can keep it and run code in it again where its framework calls a handler outside the
/// scope it was resolved in (Vapor calls a synchronous route closure from a callback once it has collected a
/// streamed body: see `Request.withCurrentSession` in SesameVapor).
public struct SessionScope<Subject: SessionSubject>: Sendable {
    /// The request's session resolution.
    public let resolution: SessionResolution<Subject>
    /// What the task-local holds in this scope: when the resolution is a session and nothing else (the usual
    /// request), the session's own storage, which costs no allocation; else a box.
    @usableFromInline let value: any AnyObject & Sendable

    /// Creates the scope of a resolution.
    ///
    /// - Parameter resolution: The request's session resolution.
    @inlinable
    public init(_ resolution: SessionResolution<Subject>) {
        self.resolution = resolution
        if let session = resolution.session, resolution.failure == nil, resolution.responseFields.isEmpty, resolution.state == nil {
            value = session.storage
        } else {
            value = CurrentSession.Box(resolution)
        }
    }

    /// The request's session, if it has one.
    @inlinable
    public var session: AuthSession<Subject>? { resolution.session }

    /// Runs `operation` in this scope.
    ///
    /// - Parameter operation: The work to run.
    /// - Returns: What `operation` returns.
    /// - Throws: What `operation` throws.
    @inlinable
    public func run<Result>(_ operation: () async throws -> Result) async rethrows -> Result {
        try await CurrentSession.box.withValue(value, operation: operation)
    }

    /// Runs synchronous `operation` in this scope. Tasks that `operation` starts (`Task { … }`) see it too: they
    /// copy the task-locals bound here.
    ///
    /// - Parameter operation: The work to run.
    /// - Returns: What `operation` returns.
    /// - Throws: What `operation` throws.
    @inlinable
    public func run<Result>(_ operation: () throws -> Result) rethrows -> Result {
        try CurrentSession.box.withValue(value, operation: operation)
    }
}
