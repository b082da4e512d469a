import Foundation
import Logging
import PostgresNIO
import Sesame

/// A `SessionStore` in PostgreSQL, over a `PostgresClient` connection pool.
///
/// Sessions live in one table, `<prefix>sessions` (see ``PostgresTableNamespace``): the key (the SHA-256 of
/// the session secret, never the secret), the group, the value as `bytea`, and the expiry as `timestamptz`,
/// indexed by group and by expiry. Reads compare the expiry with the server's clock, so an expired session is
/// never returned even before ``deleteExpired(batchSize:)`` (or a ``PostgresCleanupService``) removes it.
///
/// ## Running the client
///
/// `PostgresClient` only hands out connections while its `run()` method is running in a long-lived task: run
/// it next to the server (in a task group, or in a swift-service-lifecycle `ServiceGroup`, since
/// `PostgresClient` is a `Service`), or let ``PostgresStoreClient/withRunningClient(_:logger:_:)`` do it:
///
/// ```swift
/// let configuration = try PostgresStoreClient.configuration(url: "postgres://sesame@127.0.0.1:5432/app")
/// try await PostgresStoreClient.withRunningClient(configuration) { client in
///     let sessions = PostgresSessionStore(client: client)
///     try await sessions.migrate()
///     // … serve requests with `sessions` …
/// }
/// ```
///
/// ## Failures
///
/// Every operation is bounded by `operationTimeout`: a server that is down, refuses connections or stops
/// answering makes the operation throw `SessionStoreError.unavailable(_:)` (promptly, not after the pool's
/// own minute of retries), and the pool reconnects by itself once the server is back. A row that cannot be
/// decoded throws `SessionStoreError.invalidResponse(_:)`.
public struct PostgresSessionStore: SessionStore {
    /// Where the table lives.
    public var namespace: PostgresTableNamespace { connection.namespace }

    private let connection: PostgresStoreConnection
    private let table: String
    private let lookups: LookupBatcher<SessionRecord>

    /// Creates a store over a client; call ``migrate()`` once before first use.
    ///
    /// - Parameters:
    ///   - client: The connection pool; its `run()` must be running for the store to work.
    ///   - namespace: The schema and table prefix (default: `sesame_sessions` in the current schema).
    ///   - operationTimeout: The longest any operation may take, including waiting for a connection, before it
    ///     throws `SessionStoreError.unavailable(_:)` (default 5 seconds).
    ///   - concurrentLookups: How many ``get(_:)`` queries may run at once; lookups that arrive while all are
    ///     busy share the next query (default: half the processor count, at least 1: each query in flight holds
    ///     a connection, a server process and client CPU, so under load fewer, larger queries serve more).
    ///   - logger: Where PostgresNIO logs the store's queries (at debug and trace levels).
    public init(
        client: PostgresClient, namespace: PostgresTableNamespace = .default, operationTimeout: Duration = .seconds(5),
        concurrentLookups: Int = max(1, ProcessInfo.processInfo.activeProcessorCount / 2),
        logger: Logger = Logger(label: "sesame.postgres.sessions")
    ) {
        let connection = PostgresStoreConnection(
            client: client, namespace: namespace, operationTimeout: operationTimeout, logger: logger)
        let table = namespace.table("sessions")
        self.connection = connection
        self.table = table
        lookups = LookupBatcher(maximumQueries: concurrentLookups, deadline: operationTimeout) { keys in
            let query: PostgresQuery = """
                SELECT key, grp, value, expires_at FROM \(unescaped: table) WHERE key = ANY(\(keys)) AND expires_at > now()
                """
            let records = try await connection.rowsWithoutDeadline(query, Self.decodeRecord)
            return Dictionary(records.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Creates the schema (when the namespace names one), the sessions table and its indexes, when missing.
    ///
    /// Idempotent, and safe to run from several instances at once (migrations take a server-wide advisory lock).
    ///
    /// - Throws: `SessionStoreError` when the server cannot be reached or refuses the statements.
    public func migrate() async throws {
        let namespace = connection.namespace
        try await connection.migrate([
            """
            CREATE TABLE IF NOT EXISTS \(table) (
                key text PRIMARY KEY,
                grp text,
                value bytea NOT NULL,
                expires_at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS \(namespace.index("sessions_grp_idx")) ON \(table) (grp)",
            "CREATE INDEX IF NOT EXISTS \(namespace.index("sessions_expires_at_idx")) ON \(table) (expires_at)",
        ])
    }

    /// The unexpired record under `key`: one query, shared with the lookups of other requests that arrive
    /// while every lookup query is busy.
    ///
    /// - Parameter key: The record's key.
    /// - Returns: The record, or `nil` when there is none or it has expired.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func get(_ key: String) async throws -> SessionRecord? {
        try await lookups.value(for: key)
    }

    /// Stores a new session's record (one `INSERT`; an expired row under the same key is replaced).
    ///
    /// - Parameter record: The record to store.
    /// - Throws: `SessionStoreError.unavailable(_:)`, or `SessionStoreError.invalidResponse(_:)` when a live
    ///   record has the key already.
    public func create(_ record: SessionRecord) async throws {
        let value = ByteBuffer(bytes: record.value)
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: table) AS s (key, grp, value, expires_at)
            VALUES (\(record.key), \(record.group), \(value), \(record.expiresAt))
            ON CONFLICT (key) DO UPDATE SET grp = EXCLUDED.grp, value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
                WHERE s.expires_at <= now()
            RETURNING key
            """
        let keys = try await connection.rows(query, { try $0.decode(String.self) })
        guard !keys.isEmpty else { throw SessionStoreError.keyInUse }
    }

    /// Replaces a live record (one conditional `UPDATE`; its group is replaced with it). A record deleted or
    /// expired meanwhile is not recreated.
    ///
    /// - Parameter record: The record's new state.
    /// - Returns: `false` when no live record has its key (nothing was written).
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func update(_ record: SessionRecord) async throws -> Bool {
        let value = ByteBuffer(bytes: record.value)
        let query: PostgresQuery = """
            UPDATE \(unescaped: table) SET grp = \(record.group), value = \(value), expires_at = \(record.expiresAt)
            WHERE key = \(record.key) AND expires_at > now()
            RETURNING key
            """
        return try await !connection.rows(query, { try $0.decode(String.self) }).isEmpty
    }

    /// Replaces the record under its key only if it is live and holds `expectedValue`, in one conditional statement.
    ///
    /// - Parameters:
    ///   - record: The record's new state.
    ///   - expectedValue: The value the live record must hold.
    /// - Returns: `false` when no live record has its key and that value (nothing was written).
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        let value = ByteBuffer(bytes: record.value)
        let expected = ByteBuffer(bytes: expectedValue)
        let query: PostgresQuery = """
            UPDATE \(unescaped: table) SET grp = \(record.group), value = \(value), expires_at = \(record.expiresAt)
            WHERE key = \(record.key) AND expires_at > now() AND value = \(expected)
            RETURNING key
            """
        return try await !connection.rows(query, { try $0.decode(String.self) }).isEmpty
    }

    /// Removes the record under `key`, if any.
    ///
    /// - Parameter key: The record's key.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func delete(_ key: String) async throws {
        try await connection.execute("DELETE FROM \(unescaped: table) WHERE key = \(key)")
    }

    /// Removes every record of a group in one statement.
    ///
    /// Concurrent calls for the same group count each record once: a row deleted by one is skipped by the
    /// others.
    ///
    /// - Parameter group: The group.
    /// - Returns: How many unexpired records were removed (expired ones are removed too, but not counted).
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func deleteGroup(_ group: String) async throws -> Int {
        let query: PostgresQuery = """
            WITH removed AS (DELETE FROM \(unescaped: table) WHERE grp = \(group) RETURNING expires_at)
            SELECT count(*) FILTER (WHERE expires_at > now()) FROM removed
            """
        guard let count = try await connection.rows(query, { try $0.decode(Int.self) }).first else {
            throw SessionStoreError.invalidResponse("no count from a group deletion")
        }
        return count
    }

    /// The unexpired records of a group.
    ///
    /// - Parameter group: The group.
    /// - Returns: The records, in no particular order.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func listGroup(_ group: String) async throws -> [SessionRecord] {
        let query: PostgresQuery = """
            SELECT key, grp, value, expires_at FROM \(unescaped: table) WHERE grp = \(group) AND expires_at > now()
            """
        return try await connection.rows(query, Self.decodeRecord)
    }

    /// Deletes expired records, in batches.
    ///
    /// - Parameter batchSize: The most rows one statement deletes (default 10,000).
    /// - Returns: How many records were deleted.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    @discardableResult
    public func deleteExpired(batchSize: Int = 10_000) async throws -> Int {
        try await connection.deleteExpired(from: table, column: "expires_at", batchSize: batchSize)
    }

    @Sendable private static func decodeRecord(_ row: PostgresRow) throws -> SessionRecord {
        let (key, group, value, expiresAt) = try row.decode((String, String?, ByteBuffer, Date).self)
        return SessionRecord(key: key, group: group, value: Array(value.readableBytesView), expiresAt: expiresAt)
    }
}

extension PostgresSessionStore: PostgresExpiringStore {}
