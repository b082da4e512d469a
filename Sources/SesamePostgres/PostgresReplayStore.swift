import Foundation
import Logging
import PostgresNIO
import Sesame

/// A `ReplayStore` in PostgreSQL: single-use token IDs, shared by every instance of the app.
///
/// IDs live in `<prefix>replay` with their expiry. Consuming an ID is one `INSERT … ON CONFLICT` statement: it
/// inserts the ID, or takes over an existing row whose expiry has passed, and reports whether it did; of two
/// concurrent calls with the same ID, exactly one wins. Expired rows are reclaimed by the next use of their
/// ID and deleted by ``deleteExpired(batchSize:)``. See ``PostgresSessionStore`` for running the client and
/// for how failures are reported.
public struct PostgresReplayStore: ReplayStore, PostgresExpiringStore {
    /// Where the table lives.
    public var namespace: PostgresTableNamespace { connection.namespace }

    private let connection: PostgresStoreConnection
    private let table: String

    /// Creates a store over a client; call ``migrate()`` once before first use.
    ///
    /// - Parameters:
    ///   - client: The connection pool; its `run()` must be running for the store to work.
    ///   - namespace: The schema and table prefix (default: `sesame_replay` in the current schema).
    ///   - operationTimeout: The longest any operation may take before it throws
    ///     `SessionStoreError.unavailable(_:)` (default 5 seconds).
    ///   - logger: Where PostgresNIO logs the store's queries (at debug and trace levels).
    public init(
        client: PostgresClient, namespace: PostgresTableNamespace = .default, operationTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "sesame.postgres.replay")
    ) {
        connection = PostgresStoreConnection(
            client: client, namespace: namespace, operationTimeout: operationTimeout, logger: logger)
        table = namespace.table("replay")
    }

    /// Creates the schema (when the namespace names one), the table and its expiry index, when missing.
    ///
    /// - Throws: `SessionStoreError` when the server cannot be reached or refuses the statements.
    public func migrate() async throws {
        try await connection.migrate([
            "CREATE TABLE IF NOT EXISTS \(table) (id text PRIMARY KEY, expires_at timestamptz NOT NULL)",
            "CREATE INDEX IF NOT EXISTS \(connection.namespace.index("replay_expires_at_idx")) ON \(table) (expires_at)",
        ])
    }

    /// Marks a token ID as used, atomically.
    ///
    /// - Parameters:
    ///   - id: The token's ID.
    ///   - expiresAt: When the token expires; the ID may be forgotten after it.
    /// - Returns: `true` the first time (or the first time after an earlier use expired), `false` otherwise.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func consume(_ id: String, expiresAt: Date) async throws -> Bool {
        // `DO UPDATE … WHERE` rather than `DO NOTHING`: the conflicting row is locked and its expiry re-checked,
        // so an expired entry is taken over by exactly one caller and a live one by none.
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: table) AS used (id, expires_at) VALUES (\(id), \(expiresAt))
            ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE used.expires_at <= now()
            RETURNING true
            """
        return try await !connection.rows(query, { try $0.decode(Bool.self) }).isEmpty
    }

    /// Deletes expired IDs, in batches.
    ///
    /// - Parameter batchSize: The most rows one statement deletes (default 10,000).
    /// - Returns: How many IDs were deleted.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    @discardableResult
    public func deleteExpired(batchSize: Int = 10_000) async throws -> Int {
        try await connection.deleteExpired(from: table, column: "expires_at", batchSize: batchSize)
    }
}
