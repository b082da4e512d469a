/// A request's session as `Session.current` and `SessionData` see it, held as a value, so that an integration
/// can make it current again where its framework calls a handler outside the scope it was resolved in.
///
/// Vapor, for one, calls a synchronous route closure from a callback once it has collected a streamed body: the
/// session middleware's task-local scope has ended by then. The Vapor integration keeps the request's scope and
/// offers `req.withCurrentSession(_:_:)`, which runs the closure's code in it.
public struct SessionScope: Sendable {
    /// What the task-local holds in this scope.
    @usableFromInline let value: (any AnyObject & Sendable)?

    @inlinable
    init(value: (any AnyObject & Sendable)?) {
        self.value = value
    }

    /// Runs `operation` in this scope.
    ///
    /// - Parameter operation: The work to run.
    /// - Returns: What `operation` returns.
    /// - Throws: What `operation` throws.
    @inlinable
    public func run<Result>(_ operation: () throws -> Result) rethrows -> Result {
        try CurrentSession.box.withValue(value, operation: operation)
    }
}

extension SessionResolution {
    /// This resolution as a scope: its session, and a store-backed session's data and change tracking (the
    /// changes made in the scope are the ones the strategy commits).
    @inlinable
    public var scope: SessionScope {
        SessionScope(value: currentValue)
    }
}
