import Foundation
import Sesame

/// A `ReplayStore` in SQLite: an ID is redeemed by one `INSERT … ON CONFLICT` that succeeds for exactly one
/// caller (or revives an ID whose time is up).
public struct SQLiteReplayStore: ReplayStore {
    /// The database.
    public let storage: SQLiteStorage
    private let now: @Sendable () -> Date

    /// Creates a store over a database.
    ///
    /// - Parameters:
    ///   - storage: The database (shared with the other SQLite stores).
    ///   - now: The clock.
    public init(storage: SQLiteStorage, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.now = now
    }

    public func consume(_ id: String, expiresAt: Date) async throws -> Bool {
        let rows = try await storage.rows(
            """
            INSERT INTO sesame_used_ids (id, expires_at) VALUES (?1, ?2)
            ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE sesame_used_ids.expires_at <= ?3
            RETURNING id
            """,
            [.text(id), .float(expiresAt.timeIntervalSince1970), .float(now().timeIntervalSince1970)])
        return !rows.isEmpty
    }
}
