import Foundation
import Logging
import PostgresNIO
import Sesame

/// A `RevocationStore` in PostgreSQL, shared by every instance of the app and kept across restarts.
///
/// The same semantics as `MemoryRevocationStore`: a deny-list of token IDs in
/// `<prefix>revoked_tokens`, each kept until its token expires, and a per-subject "not before" moment in
/// `<prefix>subject_cutoffs`, kept for `retention` after its last change. "Not before" has whole-second
/// granularity: revoking at a moment revokes every token whose `iat` falls in that second or earlier. A check
/// is one query. See ``PostgresSessionStore`` for running the client and for how failures are reported.
public struct PostgresRevocationStore: RevocationStore, PostgresExpiringStore {
    /// How long a subject's "not before" moment is kept after its last change, in seconds.
    public let retention: Double
    /// Where the tables live.
    public var namespace: PostgresTableNamespace { connection.namespace }

    private let connection: PostgresStoreConnection
    private let tokens: String
    private let cutoffs: String

    /// Creates a store over a client; call ``migrate()`` once before first use.
    ///
    /// - Parameters:
    ///   - client: The connection pool; its `run()` must be running for the store to work.
    ///   - retention: How long a subject's "not before" moment is kept, in seconds; it must be at least the
    ///     longest session lifetime (default 30 days plus a day).
    ///   - namespace: The schema and table prefix (default: `sesame_revoked_tokens` and
    ///     `sesame_subject_cutoffs` in the current schema).
    ///   - operationTimeout: The longest any operation may take before it throws
    ///     `SessionStoreError.unavailable(_:)` (default 5 seconds).
    ///   - logger: Where PostgresNIO logs the store's queries (at debug and trace levels).
    public init(
        client: PostgresClient, retention: Double = 31 * 24 * 60 * 60, namespace: PostgresTableNamespace = .default,
        operationTimeout: Duration = .seconds(5), logger: Logger = Logger(label: "sesame.postgres.revocation")
    ) {
        precondition(retention > 0 && retention.isFinite, "the retention must be positive")
        self.retention = retention
        connection = PostgresStoreConnection(
            client: client, namespace: namespace, operationTimeout: operationTimeout, logger: logger)
        tokens = namespace.table("revoked_tokens")
        cutoffs = namespace.table("subject_cutoffs")
    }

    /// Creates the schema (when the namespace names one), both tables and their expiry indexes, when missing.
    ///
    /// - Throws: `SessionStoreError` when the server cannot be reached or refuses the statements.
    public func migrate() async throws {
        let namespace = connection.namespace
        try await connection.migrate([
            "CREATE TABLE IF NOT EXISTS \(tokens) (jti text PRIMARY KEY, expires_at timestamptz NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS \(cutoffs) (
                subject text PRIMARY KEY,
                not_before timestamptz NOT NULL,
                forget_after timestamptz NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS \(namespace.index("revoked_tokens_expires_at_idx")) ON \(tokens) (expires_at)",
            "CREATE INDEX IF NOT EXISTS \(namespace.index("subject_cutoffs_forget_after_idx")) ON \(cutoffs) (forget_after)",
        ])
    }

    /// Whether a token is revoked, by its ID or by its subject's "not before" moment, in one query.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: `true` if the token must not be accepted.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    /// Asks the server (one round trip).
    public func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> {
        .catching { try await lookUp(tokenID: tokenID, subject: subject, issuedAt: issuedAt) }
    }

    private func lookUp(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool {
        let query: PostgresQuery = """
            SELECT EXISTS (SELECT 1 FROM \(unescaped: tokens) WHERE jti = \(tokenID) AND expires_at > now())
                OR EXISTS (
                    SELECT 1 FROM \(unescaped: cutoffs)
                    WHERE subject = \(subject) AND \(issuedAt) < not_before AND forget_after > now()
                )
            """
        guard let revoked = try await connection.rows(query, { try $0.decode(Bool.self) }).first else {
            throw SessionStoreError.invalidResponse("no answer to a revocation check")
        }
        return revoked
    }

    /// Revokes one token until it would have expired anyway.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - expiresAt: The token's `exp`; the entry is deleted after it.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func revoke(tokenID: String, expiresAt: Date) async throws {
        try await connection.execute("""
            INSERT INTO \(unescaped: tokens) AS revoked (jti, expires_at) VALUES (\(tokenID), \(expiresAt))
            ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(revoked.expires_at, EXCLUDED.expires_at)
            """)
    }

    /// Revokes every token of a subject issued up to (and within the same second as) a moment.
    ///
    /// A later call never moves the moment back.
    ///
    /// - Parameters:
    ///   - subject: The tokens' `sub`.
    ///   - issuedBefore: Tokens whose `iat` falls before this moment, or in the same second, are revoked.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    public func revokeAll(subject: String, issuedBefore: Date) async throws {
        // Token `iat`s are whole seconds: every token of the moment's second goes too.
        let notBefore = Date(timeIntervalSince1970: issuedBefore.timeIntervalSince1970.rounded(.down) + 1)
        try await connection.execute("""
            INSERT INTO \(unescaped: cutoffs) AS cutoff (subject, not_before, forget_after)
            VALUES (\(subject), \(notBefore), now() + \(retention) * interval '1 second')
            ON CONFLICT (subject) DO UPDATE SET
                not_before = GREATEST(cutoff.not_before, EXCLUDED.not_before),
                forget_after = EXCLUDED.forget_after
            """)
    }

    /// Deletes expired token IDs and forgotten "not before" moments, in batches.
    ///
    /// - Parameter batchSize: The most rows one statement deletes (default 10,000).
    /// - Returns: How many rows were deleted from both tables.
    /// - Throws: `SessionStoreError.unavailable(_:)` or `SessionStoreError.invalidResponse(_:)`.
    @discardableResult
    public func deleteExpired(batchSize: Int = 10_000) async throws -> Int {
        let revoked = try await connection.deleteExpired(from: tokens, column: "expires_at", batchSize: batchSize)
        let forgotten = try await connection.deleteExpired(from: cutoffs, column: "forget_after", batchSize: batchSize)
        return revoked + forgotten
    }
}
