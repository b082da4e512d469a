import Logging
import PostgresNIO
import Sesame

/// What every PostgreSQL store shares: the client, the table namespace, the per-operation deadline, and the
/// error mapping. Each public operation of a store is one call of ``perform(_:)`` (one query, or one short
/// transaction).
struct PostgresStoreConnection: Sendable {
    let client: PostgresClient
    let namespace: PostgresTableNamespace
    let operationTimeout: Duration
    let logger: Logger

    /// An arbitrary, fixed advisory-lock key that serializes concurrent migrations ("SESAME" in ASCII).
    private static let migrationLockKey: Int64 = 0x5345_5341_4D45

    /// How long a migration may take, waiting for the lock included. Migrations run at start-up, serialized
    /// across every Sesame store on the server, so several instances (or test suites) starting at once queue
    /// behind each other for longer than one request's deadline allows.
    private var migrationTimeout: Duration { max(operationTimeout, .seconds(60)) }

    /// Runs `body` against the client within the operation deadline, mapping failures to store errors.
    ///
    /// - Parameters:
    ///   - deadline: How long the operation may take; the store's operation deadline when `nil`.
    ///   - body: The operation.
    func perform<Value: Sendable>(
        within deadline: Duration? = nil,
        _ body: @escaping @Sendable (_ client: PostgresClient, _ logger: Logger) async throws -> Value
    ) async throws -> Value {
        let client = client, logger = logger
        do {
            return try await OperationDeadline.run(within: deadline ?? operationTimeout) { try await body(client, logger) }
        } catch {
            throw PostgresErrorClassifier.storeError(for: error)
        }
    }

    /// Runs one query and collects its rows, decoding each with `decode` inside the deadline.
    func rows<Row: Sendable>(
        _ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        try await perform { client, logger in try await Self.collect(query, decode, client: client, logger: logger) }
    }

    /// Runs one query and collects its rows with no deadline of its own, for a caller that bounds it (the
    /// lookup batcher); failures are mapped to store errors.
    func rowsWithoutDeadline<Row: Sendable>(
        _ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        do {
            return try await Self.collect(query, decode, client: client, logger: logger)
        } catch {
            throw PostgresErrorClassifier.storeError(for: error)
        }
    }

    /// Runs one query and decodes every row.
    private static func collect<Row: Sendable>(
        _ query: PostgresQuery, _ decode: (PostgresRow) throws -> Row, client: PostgresClient, logger: Logger
    ) async throws -> [Row] {
        var rows: [Row] = []
        for try await row in try await client.query(query, logger: logger) {
            rows.append(try decode(row))
        }
        return rows
    }

    /// Runs one statement that returns no rows worth reading.
    func execute(_ query: PostgresQuery) async throws {
        try await perform { client, logger in
            for try await _ in try await client.query(query, logger: logger) {}
        }
    }

    /// Runs DDL statements in one transaction, serialized with every other Sesame migration on the server by
    /// an advisory lock (two instances starting at once would otherwise race on `CREATE … IF NOT EXISTS`).
    func migrate(_ statements: [String]) async throws {
        let all = (namespace.createSchemaStatement.map { [$0] } ?? []) + statements
        try await perform(within: migrationTimeout) { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: logger)
                for statement in all {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
        }
    }

    /// Brings a component's schema to its newest version: in one transaction, under the same advisory lock as
    /// ``migrate(_:)``, the versions not yet recorded in `<prefix>schema_migrations` run in order and are recorded.
    ///
    /// - Returns: The versions applied now.
    func migrateVersioned(component: String, versions: [[String]]) async throws -> [Int] {
        let ledger = namespace.table("schema_migrations")
        let prelude = (namespace.createSchemaStatement.map { [$0] } ?? []) + [
            "CREATE TABLE IF NOT EXISTS \(ledger) (component text NOT NULL, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))"
        ]
        return try await perform(within: migrationTimeout) { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: logger)
                for statement in prelude { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                var current = 0
                for try await version in try await connection.query(
                    "SELECT coalesce(max(version), 0) FROM \(unescaped: ledger) WHERE component = \(component)", logger: logger
                ).decode(Int.self) { current = version }
                var applied: [Int] = []
                for (index, statements) in versions.enumerated() where index + 1 > current {
                    for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    try await connection.query("INSERT INTO \(unescaped: ledger) (component, version) VALUES (\(component), \(index + 1))", logger: logger)
                    applied.append(index + 1)
                }
                return applied
            }
        }
    }

    /// Deletes rows whose `column` (a `timestamptz`) has passed, in batches of at most `batchSize` rows so that
    /// no single statement holds many locks; rows locked by a concurrent writer are left for the next run.
    ///
    /// - Returns: How many rows were deleted.
    func deleteExpired(from table: String, column: String, batchSize: Int) async throws -> Int {
        precondition(batchSize > 0, "the batch size must be positive")
        var total = 0
        while true {
            let query: PostgresQuery = """
                WITH removed AS (
                    DELETE FROM \(unescaped: table) WHERE ctid IN (
                        SELECT ctid FROM \(unescaped: table) WHERE \(unescaped: column) <= now()
                        LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                    ) AND \(unescaped: column) <= now()
                    RETURNING 1
                )
                SELECT count(*) FROM removed
                """
            let removed = try await rows(query) { try $0.decode(Int.self) }.first ?? 0
            total += removed
            if removed < batchSize { return total }
        }
    }
}
