/// Where audit events go: a log, a store, a SIEM.
///
/// Sinks are called on the request's task, after the action they record succeeded (or, for a refused sign-in,
/// after the refusal was decided), and must not throw: a sink that cannot keep an event logs the failure itself.
public protocol AuditSink: Sendable {
    /// Keeps one event.
    ///
    /// - Parameter event: The event.
    func record(_ event: AuditEvent) async
}

/// An ``AuditSink`` made of a closure, for an app's own destination or a test.
///
/// ```swift
/// let audit = AuditLog([LoggingAuditSink(), ClosureAuditSink { event in await siem.send(event) }])
/// ```
public struct ClosureAuditSink: AuditSink {
    private let body: @Sendable (AuditEvent) async -> Void

    /// Creates a sink that calls `body` with every event.
    ///
    /// - Parameter body: What to do with an event.
    public init(_ body: @escaping @Sendable (AuditEvent) async -> Void) {
        self.body = body
    }

    /// Calls the closure.
    ///
    /// - Parameter event: The event.
    public func record(_ event: AuditEvent) async {
        await body(event)
    }
}
