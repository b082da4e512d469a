/// The session of the request being handled, as a task-local value: SST's `useSession`.
///
/// Integrations run each request's handler inside ``SessionScope/run(_:)-(()->Result)``, so that
/// `AuthSession<AppSession>.current` works anywhere below the session middleware: in route handlers, services,
/// GraphQL resolvers, without passing the session around.
@usableFromInline
enum CurrentSession {
    /// The current request's scope, boxed (or, when it is a session and nothing else, the session's storage) so
    /// that reading it back is a class cast.
    @usableFromInline static let box = TaskLocal<(any AnyObject & Sendable)?>(wrappedValue: nil)

    /// What any box offers whatever its subject type: the strategy's per-request state.
    @usableFromInline
    class AnyBox: @unchecked Sendable {
        @usableFromInline let state: SessionScopeState?
        @usableFromInline init(state: SessionScopeState?) { self.state = state }
    }

    @usableFromInline
    final class Box<Subject: SessionSubject>: AnyBox, @unchecked Sendable {
        @usableFromInline let resolution: SessionResolution<Subject>
        @usableFromInline init(_ resolution: SessionResolution<Subject>) {
            self.resolution = resolution
            super.init(state: resolution.state)
        }
    }

    /// The strategy state of the request being handled, if its strategy keeps one.
    static var state: SessionScopeState? {
        (box.get() as? AnyBox)?.state
    }
}

extension AuthSession {
    /// The session of the request being handled, or `nil` outside a request or when it has none.
    @inlinable
    public static var current: AuthSession<Subject>? {
        SessionResolution<Subject>.current?.session
    }

    /// Runs `operation` with `session` as ``current`` (for work outside a request, a job or a test).
    ///
    /// - Parameters:
    ///   - session: The session, or `nil`.
    ///   - operation: The work to run.
    /// - Returns: The operation's result.
    @inlinable
    public static func withCurrent<Result>(_ session: AuthSession<Subject>?, operation: () async throws -> Result) async rethrows -> Result {
        try await SessionScope(SessionResolution(session: session)).run(operation)
    }
}

extension SessionResolution {
    /// The resolution of the request being handled, or `nil` outside a request.
    @inlinable
    public static var current: SessionResolution<Subject>? {
        switch CurrentSession.box.get() {
        case let box as CurrentSession.Box<Subject>: box.resolution
        case let storage as AuthSession<Subject>.Storage: SessionResolution(session: AuthSession(storage: storage))
        default: nil
        }
    }
}
