import Foundation

/// Records security events: the value Sesame's components hold and call, with the ``AuditSink``s they go to.
///
/// Every component that changes security state takes one (default: ``LoggingAuditSink`` alone). Give them all the
/// same log to keep a trail an account page can read:
///
/// ```swift
/// let trail = AuditTrail(store: sessionStore)
/// let audit = AuditLog([LoggingAuditSink(), trail])
/// let accounts = Accounts(store: accountStore, keys: keys, audit: audit)
/// ```
///
/// Each event gets the time from the log's clock and the client's address and user agent from the
/// ``AuditRequest`` the work runs in.
public struct AuditLog: Sendable {
    /// Where events go, in order.
    public var sinks: [any AuditSink]
    /// The clock events are stamped with.
    let now: @Sendable () -> Date

    /// Creates a log.
    ///
    /// - Parameters:
    ///   - sinks: Where events go (default: swift-log, label `sesame.audit`).
    ///   - now: The clock.
    public init(_ sinks: [any AuditSink] = [LoggingAuditSink()], now: @escaping @Sendable () -> Date = { Date() }) {
        self.sinks = sinks
        self.now = now
    }

    /// A log that records nothing.
    public static var disabled: AuditLog { AuditLog([]) }

    /// Records an event from the current ``AuditRequest`` (if any) in every sink.
    ///
    /// - Parameters:
    ///   - kind: What happened.
    ///   - userID: The user it concerns (an ``AuthUser`` ID).
    ///   - subjectID: The session subject it concerns.
    ///   - sessionID: The session involved.
    ///   - provider: The provider involved.
    ///   - detail: A stable word qualifying it (never a secret or request text).
    public func record(
        _ kind: AuditEvent.Kind, userID: String? = nil, subjectID: String? = nil, sessionID: String? = nil, provider: String? = nil, detail: String? = nil
    ) async {
        guard !sinks.isEmpty else { return }
        let request = AuditRequest.current
        let event = AuditEvent(
            kind: kind, time: now(), userID: userID, subjectID: subjectID, sessionID: sessionID, clientAddress: request?.clientAddress, userAgent: request?.userAgent,
            provider: provider, detail: detail)
        for sink in sinks { await sink.record(event) }
    }
}
