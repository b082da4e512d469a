import Foundation
import Logging
import NIOCore
import Sesame
import SQLiteNIO

/// One SQLite database file shared by Sesame's SQLite stores: sessions, single-use IDs, rate limits and
/// token revocations. The embedded default: no server, one file.
///
/// The connection opens on first use and creates its tables then (`CREATE TABLE IF NOT EXISTS`), in WAL mode.
/// Every store operation is a single SQL statement, so each is atomic without explicit transactions.
public final class SQLiteStorage: Sendable {
    /// The database file's path.
    public let path: String
    private let connection: SQLiteLazyConnection

    /// Creates storage in a file (created if missing, with its tables).
    ///
    /// - Parameters:
    ///   - path: The database file, for example `.sesame/sessions.sqlite`.
    ///   - logger: The logger for SQLite.
    public init(path: String, logger: Logger = Logger(label: "sesame.sqlite")) {
        self.path = path
        connection = SQLiteLazyConnection(path: path, logger: logger) { database in
            for statement in Self.schema { try await database.query(statement, []) { _ in } }
        }
    }

    /// The schema, in statements that may run any number of times.
    static let schema = [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA busy_timeout = 5000",
        """
        CREATE TABLE IF NOT EXISTS sesame_sessions (
            key TEXT PRIMARY KEY NOT NULL, grp TEXT, value BLOB NOT NULL, expires_at REAL NOT NULL
        ) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS sesame_sessions_grp ON sesame_sessions (grp)",
        "CREATE INDEX IF NOT EXISTS sesame_sessions_expires_at ON sesame_sessions (expires_at)",
        "CREATE TABLE IF NOT EXISTS sesame_used_ids (id TEXT PRIMARY KEY NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID",
        """
        CREATE TABLE IF NOT EXISTS sesame_rate_limits (
            key TEXT PRIMARY KEY NOT NULL, tokens REAL NOT NULL, updated_at REAL NOT NULL, allowed INTEGER NOT NULL
        ) WITHOUT ROWID
        """,
        "CREATE TABLE IF NOT EXISTS sesame_revoked_tokens (jti TEXT PRIMARY KEY NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS sesame_subject_cutoffs (subject TEXT PRIMARY KEY NOT NULL, not_before REAL NOT NULL, forget_after REAL NOT NULL) WITHOUT ROWID",
    ]

    /// Runs one statement and collects its rows.
    ///
    /// - Throws: `SessionStoreError.unavailable(_:)` when the database cannot be opened or written.
    func rows(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        do {
            return try await SQLiteLazyConnection.rows(connection.connection(), sql, binds)
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError.unavailable("SQLite: \(error)")
        }
    }

    /// Removes expired sessions, used IDs, revocations and idle rate-limit buckets.
    ///
    /// - Returns: How many session rows were removed.
    @discardableResult
    public func deleteExpired(now: Date = Date()) async throws -> Int {
        let current = SQLiteData.float(now.timeIntervalSince1970)
        let removed = try await rows("DELETE FROM sesame_sessions WHERE expires_at <= ?1 RETURNING key", [current]).count
        _ = try await rows("DELETE FROM sesame_used_ids WHERE expires_at <= ?1", [current])
        _ = try await rows("DELETE FROM sesame_revoked_tokens WHERE expires_at <= ?1", [current])
        _ = try await rows("DELETE FROM sesame_subject_cutoffs WHERE forget_after <= ?1", [current])
        return removed
    }

    /// Closes the connection; the next operation opens it again.
    public func close() async throws {
        try await connection.close()
    }
}

extension SQLiteStorage: ExpiringStore {
    /// Deletes expired sessions, used IDs, revocations and idle rate-limit buckets (for `StoreCleanupService`).
    ///
    /// - Returns: How many session rows were removed.
    @discardableResult
    public func deleteExpiredRecords() async throws -> Int {
        try await deleteExpired()
    }
}
