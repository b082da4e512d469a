import Foundation
import NIOCore
import Sesame
import SQLiteNIO
import Synchronization

/// A `SessionStore` in an SQLite file: the embedded default, durable across restarts of the app.
///
/// Reads are one `SELECT` by primary key; a new session is one `INSERT`, a change one conditional `UPDATE`
/// (a deleted session is never recreated); ``deleteGroup(_:)`` one `DELETE … RETURNING`, so
/// concurrent terminations of a group count each session once. Expired rows are never returned and are
/// removed every few hundred writes (or by ``SQLiteStorage/deleteExpired(now:)``).
public struct SQLiteSessionStore: SessionStore {
    /// The database.
    public let storage: SQLiteStorage
    private let writes = WriteCounter()
    private let now: @Sendable () -> Date

    private final class WriteCounter: Sendable {
        let count = Atomic(0)
    }

    /// How many writes pass between two removals of expired rows.
    static let cleanupInterval = 256

    /// Creates a store over a database.
    ///
    /// - Parameters:
    ///   - storage: The database (shared with the other SQLite stores).
    ///   - now: The clock.
    public init(storage: SQLiteStorage, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.now = now
    }

    public func get(_ key: String) async throws -> SessionRecord? {
        let rows = try await storage.rows(
            "SELECT grp, value, expires_at FROM sesame_sessions WHERE key = ?1 AND expires_at > ?2",
            [.text(key), .float(now().timeIntervalSince1970)])
        return try rows.first.map { try Self.record(key: key, row: $0) }
    }

    public func create(_ record: SessionRecord) async throws {
        // An expired row under the key (never a live one: keys come from fresh secrets) may be replaced.
        let rows = try await storage.rows(
            """
            INSERT INTO sesame_sessions (key, grp, value, expires_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (key) DO UPDATE SET grp = excluded.grp, value = excluded.value, expires_at = excluded.expires_at
                WHERE sesame_sessions.expires_at <= ?5
            RETURNING key
            """,
            [.text(record.key), record.group.map(SQLiteData.text) ?? .null, .blob(ByteBuffer(bytes: record.value)),
             .float(record.expiresAt.timeIntervalSince1970), .float(now().timeIntervalSince1970)])
        guard !rows.isEmpty else { throw SessionStoreError.keyInUse }
        await cleanUpIfDue()
    }

    public func update(_ record: SessionRecord) async throws -> Bool {
        // One conditional statement: a row deleted (signed out, terminated) or expired meanwhile is not recreated.
        let rows = try await storage.rows(
            """
            UPDATE sesame_sessions SET grp = ?2, value = ?3, expires_at = ?4 WHERE key = ?1 AND expires_at > ?5
            RETURNING key
            """,
            [.text(record.key), record.group.map(SQLiteData.text) ?? .null, .blob(ByteBuffer(bytes: record.value)),
             .float(record.expiresAt.timeIntervalSince1970), .float(now().timeIntervalSince1970)])
        await cleanUpIfDue()
        return !rows.isEmpty
    }

    public func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        // One conditional statement: the compare and the swap are one write.
        let rows = try await storage.rows(
            """
            UPDATE sesame_sessions SET grp = ?2, value = ?3, expires_at = ?4 WHERE key = ?1 AND expires_at > ?5 AND value = ?6
            RETURNING key
            """,
            [.text(record.key), record.group.map(SQLiteData.text) ?? .null, .blob(ByteBuffer(bytes: record.value)),
             .float(record.expiresAt.timeIntervalSince1970), .float(now().timeIntervalSince1970), .blob(ByteBuffer(bytes: expectedValue))])
        await cleanUpIfDue()
        return !rows.isEmpty
    }

    /// Removes expired rows every ``cleanupInterval`` writes.
    private func cleanUpIfDue() async {
        if writes.count.wrappingAdd(1, ordering: .relaxed).newValue % Self.cleanupInterval == 0 {
            _ = try? await storage.deleteExpired(now: now())
        }
    }

    public func delete(_ key: String) async throws {
        _ = try await storage.rows("DELETE FROM sesame_sessions WHERE key = ?1", [.text(key)])
    }

    public func deleteGroup(_ group: String) async throws -> Int {
        let current = now().timeIntervalSince1970
        let removed = try await storage.rows("DELETE FROM sesame_sessions WHERE grp = ?1 RETURNING expires_at", [.text(group)])
        return removed.filter { ($0.column("expires_at")?.double ?? 0) > current }.count
    }

    public func listGroup(_ group: String) async throws -> [SessionRecord] {
        let rows = try await storage.rows(
            "SELECT key, grp, value, expires_at FROM sesame_sessions WHERE grp = ?1 AND expires_at > ?2",
            [.text(group), .float(now().timeIntervalSince1970)])
        return try rows.map { row in
            guard let key = row.column("key")?.string else { throw SessionStoreError.invalidResponse("a session row without key") }
            return try Self.record(key: key, row: row)
        }
    }

    private static func record(key: String, row: SQLiteRow) throws -> SessionRecord {
        guard case .blob(let value)? = row.column("value"), let expiresAt = row.column("expires_at")?.double else {
            throw SessionStoreError.invalidResponse("a malformed session row")
        }
        return SessionRecord(
            key: key, group: row.column("grp")?.string, value: Array(value.readableBytesView),
            expiresAt: Date(timeIntervalSince1970: expiresAt))
    }
}
