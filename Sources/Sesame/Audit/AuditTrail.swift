import Foundation
import Logging

/// A store-backed ``AuditSink`` that keeps each user's recent events, for an account page's "recent sign-ins"
/// and "sign out that device".
///
/// Events live in a ``SessionStore`` (memory, SQLite, PostgreSQL or Redis: the app's session store does), filed
/// under the event's ``AuditEvent/userID`` and under its ``AuditEvent/subjectID`` (one record in the group
/// `audit:` + ID for each), each expiring after ``retention``. Read a user's events by either ID: account events
/// and sign-ins settled by ``Accounts`` by the user ID, session events by the session's subject identifier (which
/// is what ``AuthSession/subjectID`` and a store's session list use). Each ID's trail keeps its newest
/// ``maximumPerUser`` events: older ones are deleted as new ones arrive, so that a flood of failed sign-ins cannot
/// grow it without bound. Events that name nobody are logged by the other sinks only.
public struct AuditTrail: AuditSink {
    /// Where events are kept.
    public let store: any SessionStore
    /// How long an event is kept, in seconds (default 90 days).
    public let retention: TimeInterval
    /// How many events a user's trail keeps at most (default 100).
    public let maximumPerUser: Int
    private let logger: Logger

    /// Creates a trail.
    ///
    /// - Parameters:
    ///   - store: Where events are kept.
    ///   - retention: How long an event is kept, in seconds.
    ///   - maximumPerUser: How many events a user's trail keeps at most.
    ///   - logger: Where a store failure is logged (the event is then lost from the trail, never the action).
    public init(store: any SessionStore, retention: TimeInterval = 90 * 24 * 60 * 60, maximumPerUser: Int = 100, logger: Logger = Logger(label: "sesame.audit")) {
        precondition(maximumPerUser > 0 && retention > 0, "an audit trail keeps at least one event for some time")
        self.store = store
        self.retention = retention
        self.maximumPerUser = maximumPerUser
        self.logger = logger
    }

    /// Keeps an event in its user's trail, deleting the oldest beyond ``maximumPerUser``.
    ///
    /// - Parameter event: The event.
    public func record(_ event: AuditEvent) async {
        var ids = [event.userID, event.subjectID].compactMap { $0 }
        if ids.count == 2, ids[0] == ids[1] { ids.removeLast() }
        do {
            let value = try Self.encode(event)
            for id in ids {
                let key = "audit:" + RandomToken.make(byteCount: 16)
                try await store.create(SessionRecord(key: key, group: Self.group(id), value: value, expiresAt: event.time.addingTimeInterval(retention)))
                let records = try await store.listGroup(Self.group(id))
                if records.count > maximumPerUser {
                    for stale in Self.newestFirst(records).dropFirst(maximumPerUser) { try await store.delete(stale.record.key) }
                }
            }
        } catch {
            logger.error("The audit trail could not keep an event", metadata: [
                "audit.kind": .string(event.kind.rawValue), "error": .string(String(describing: type(of: error))),
            ])
        }
    }

    /// The newest events filed under an ID.
    ///
    /// - Parameters:
    ///   - id: A user ID or a session subject identifier.
    ///   - kinds: The kinds wanted (default: all).
    ///   - limit: How many at most.
    /// - Returns: The events, newest first.
    /// - Throws: ``SessionStoreError`` when the store cannot be reached.
    public func events(for id: String, kinds: Set<AuditEvent.Kind>? = nil, limit: Int = 20) async throws -> [AuditEvent] {
        let records = try await store.listGroup(Self.group(id))
        return Array(Self.newestFirst(records).lazy.map(\.event).filter { kinds?.contains($0.kind) ?? true }.prefix(limit))
    }

    /// Deletes the events filed under an ID (after an account is deleted, when the app keeps no trail of deleted
    /// users: call it with the user ID and the subject identifier).
    ///
    /// - Parameter id: A user ID or a session subject identifier.
    /// - Returns: How many events were deleted.
    /// - Throws: ``SessionStoreError`` when the store cannot be reached.
    @discardableResult
    public func forget(_ id: String) async throws -> Int {
        try await store.deleteGroup(Self.group(id))
    }

    static func group(_ id: String) -> String { "audit:" + id }

    /// The decodable records of a group, newest first (undecodable records sort last, and so go first).
    private static func newestFirst(_ records: [SessionRecord]) -> [(record: SessionRecord, event: AuditEvent)] {
        records.compactMap { record in (try? decode(record.value)).map { (record, $0) } }
            .sorted { $0.event.time > $1.event.time || ($0.event.time == $1.event.time && $0.record.key > $1.record.key) }
    }

    static func encode(_ event: AuditEvent) throws -> [UInt8] {
        try JSONValueEncoder().encode(StoredEvent(event)).jsonBytes
    }

    static func decode(_ bytes: [UInt8]) throws -> AuditEvent {
        try JSONValueDecoder().decode(StoredEvent.self, from: bytes).event
    }

    /// An event as stored: the time in seconds since 1970, the kind by its stable name.
    private struct StoredEvent: Codable {
        var k: String
        var t: Double
        var u: String?
        var j: String?
        var s: String?
        var a: String?
        var ua: String?
        var p: String?
        var d: String?

        init(_ event: AuditEvent) {
            k = event.kind.rawValue
            t = event.time.timeIntervalSince1970
            u = event.userID
            j = event.subjectID
            s = event.sessionID
            a = event.clientAddress
            ua = event.userAgent
            p = event.provider
            d = event.detail
        }

        var event: AuditEvent {
            get throws {
                guard let kind = AuditEvent.Kind(rawValue: k) else { throw SessionStoreError.invalidResponse("not an audit event") }
                return AuditEvent(
                    kind: kind, time: Date(timeIntervalSince1970: t), userID: u, subjectID: j, sessionID: s, clientAddress: a, userAgent: ua, provider: p, detail: d)
            }
        }
    }
}
