import Foundation
import Logging

/// The default ``AuditSink``: each event as one swift-log message (`Security event`) at `notice` level, with the
/// event's fields as metadata (`audit.kind`, `audit.user`, `audit.subject`, `audit.session`, `audit.client`, `audit.user_agent`,
/// `audit.provider`, `audit.detail`), so that a log pipeline can index them.
public struct LoggingAuditSink: AuditSink {
    /// The logger events go to.
    public let logger: Logger

    /// Creates a sink.
    ///
    /// - Parameter logger: The logger (default label `sesame.audit`).
    public init(logger: Logger = Logger(label: "sesame.audit")) {
        self.logger = logger
    }

    /// Logs the event.
    ///
    /// - Parameter event: The event.
    public func record(_ event: AuditEvent) async {
        logger.notice("Security event", metadata: Self.metadata(of: event))
    }

    /// An event's log fields.
    static func metadata(of event: AuditEvent) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["audit.kind": .string(event.kind.rawValue)]
        if let value = event.userID { metadata["audit.user"] = .string(value) }
        if let value = event.subjectID { metadata["audit.subject"] = .string(value) }
        if let value = event.sessionID { metadata["audit.session"] = .string(value) }
        if let value = event.clientAddress { metadata["audit.client"] = .string(value) }
        if let value = event.userAgent { metadata["audit.user_agent"] = .string(value) }
        if let value = event.provider { metadata["audit.provider"] = .string(value) }
        if let value = event.detail { metadata["audit.detail"] = .string(value) }
        return metadata
    }
}
