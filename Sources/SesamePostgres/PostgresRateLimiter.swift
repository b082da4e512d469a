import Foundation
import Logging
import PostgresNIO
import Sesame

/// A token-bucket `RateLimiter` in PostgreSQL, shared by every instance of the app.
///
/// The same semantics as `MemoryRateLimiter`: `capacity` requests at once, one more every
/// `refillInterval` seconds. Each bucket is a row of `<prefix>rate_limits` under the limiter's ``name`` and
/// the key; taking a token is one `INSERT … ON CONFLICT DO UPDATE` statement, which locks the row, so two
/// concurrent requests never both take the last token. Time is the server's clock (`now()`), which every
/// instance shares. A bucket's row can be deleted once it would be full again; ``deleteExpired(batchSize:)``
/// does that. See ``PostgresSessionStore`` for running the client and for how failures are reported.
public struct PostgresRateLimiter: RateLimiter, PostgresExpiringStore {
    /// The limiter's key space: limiters with different names (and settings) share the table, not buckets.
    public let name: String
    /// The most requests allowed at once.
    public let capacity: Double
    /// Seconds for one token to come back.
    public let refillInterval: Double
    /// Where the table lives.
    public var namespace: PostgresTableNamespace { connection.namespace }

    private let connection: PostgresStoreConnection
    private let table: String
    private let consumeSQL: String

    /// Creates a limiter over a client; call ``migrate()`` once before first use.
    ///
    /// - Parameters:
    ///   - client: The connection pool; its `run()` must be running for the limiter to work.
    ///   - name: The limiter's key space, for example `login` (default `default`).
    ///   - capacity: The burst size (at least 0).
    ///   - refillInterval: Seconds per token refilled (more than 0).
    ///   - namespace: The schema and table prefix (default: `sesame_rate_limits` in the current schema).
    ///   - operationTimeout: The longest any operation may take before it throws
    ///     `SessionStoreError.unavailable(_:)` (default 5 seconds).
    ///   - logger: Where PostgresNIO logs the limiter's queries (at debug and trace levels).
    public init(
        client: PostgresClient, name: String = "default", capacity: Int, refillInterval: Double,
        namespace: PostgresTableNamespace = .default, operationTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "sesame.postgres.rate-limit")
    ) {
        precondition(capacity >= 0, "the capacity must not be negative")
        precondition(refillInterval > 0 && refillInterval.isFinite, "the refill interval must be positive")
        self.name = name
        self.capacity = Double(capacity)
        self.refillInterval = refillInterval
        connection = PostgresStoreConnection(
            client: client, namespace: namespace, operationTimeout: operationTimeout, logger: logger)
        let table = namespace.table("rate_limits")
        self.table = table
        // $1 name, $2 key, $3 capacity, $4 refill interval (seconds per token). A new bucket starts full and
        // gives its first token at once; an existing one is refilled for the time since its last update
        // (never negatively, should concurrent statements see `now()` out of order), then gives a token if it
        // has a whole one. `full_at` is when the bucket will be full again, and the row may be forgotten.
        let refilled = "LEAST($3, bucket.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - bucket.updated_at)::float8) / $4)"
        let left = "(CASE WHEN \(refilled) >= 1 THEN \(refilled) - 1 ELSE \(refilled) END)"
        let initial = "(CASE WHEN $3 >= 1 THEN $3 - 1 ELSE $3 END)"
        consumeSQL = """
            INSERT INTO \(table) AS bucket (name, key, tokens, updated_at, allowed, full_at)
            VALUES ($1, $2, \(initial), now(), $3 >= 1, now() + ($3 - \(initial)) * $4 * interval '1 second')
            ON CONFLICT (name, key) DO UPDATE SET
                tokens = \(left),
                allowed = \(refilled) >= 1,
                updated_at = GREATEST(bucket.updated_at, now()),
                full_at = GREATEST(bucket.updated_at, now()) + ($3 - \(left)) * $4 * interval '1 second'
            RETURNING allowed, tokens
            """
    }

    /// Creates the schema (when the namespace names one) and the table and index that every limiter on `namespace`
    /// shares, when missing: what ``migrate()`` does, for an app that migrates before it makes its limiters.
    ///
    /// - Parameters:
    ///   - client: The connection pool; its `run()` must be running.
    ///   - namespace: The schema and table prefix (default: `sesame_rate_limits` in the current schema).
    /// - Throws: `SessionStoreError` when the server cannot be reached or refuses the statements.
    public static func migrate(client: PostgresClient, namespace: PostgresTableNamespace = .default) async throws {
        try await PostgresRateLimiter(client: client, capacity: 1, refillInterval: 1, namespace: namespace).migrate()
    }

    /// Creates the schema (when the namespace names one), the table and its index, when missing.
    ///
    /// - Throws: `SessionStoreError` when the server cannot be reached or refuses the statements.
    public func migrate() async throws {
        try await connection.migrate([
            """
            CREATE TABLE IF NOT EXISTS \(table) (
                name text NOT NULL,
                key text NOT NULL,
                tokens double precision NOT NULL,
                updated_at timestamptz NOT NULL,
                allowed boolean NOT NULL,
                full_at timestamptz NOT NULL,
                PRIMARY KEY (name, key)
            )
            """,
            "CREATE INDEX IF NOT EXISTS \(connection.namespace.index("rate_limits_full_at_idx")) ON \(table) (full_at)",
        ])
    }

    /// Takes one token from `key`'s bucket, atomically.
    ///
    /// - Parameter key: What is being limited, for example `email:ada@example.com`.
    /// - Returns: `nil` when the request is allowed, else the whole seconds (at least 1) until a token is
    ///   available.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func consume(_ key: String) async throws -> Int? {
        var binds = PostgresBindings(capacity: 4)
        binds.append(name)
        binds.append(key)
        binds.append(capacity)
        binds.append(refillInterval)
        let query = PostgresQuery(unsafeSQL: consumeSQL, binds: binds)
        guard let (allowed, tokens) = try await connection.rows(query, { try $0.decode((Bool, Double).self) }).first
        else {
            throw SessionStoreError.invalidResponse("no bucket from a rate-limit update")
        }
        if allowed { return nil }
        guard tokens.isFinite, tokens < 1 else {
            throw SessionStoreError.invalidResponse("a refused bucket holds \(tokens) tokens")
        }
        let seconds = ((1 - tokens) * refillInterval).rounded(.up)
        return max(1, Int(min(seconds, Double(Int32.max))))
    }

    /// Deletes buckets that are full again (they are the same as no bucket), in batches.
    ///
    /// - Parameter batchSize: The most rows one statement deletes (default 10,000).
    /// - Returns: How many buckets were deleted.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    @discardableResult
    public func deleteExpired(batchSize: Int = 10_000) async throws -> Int {
        try await connection.deleteExpired(from: table, column: "full_at", batchSize: batchSize)
    }
}
