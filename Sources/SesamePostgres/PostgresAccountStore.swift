import Foundation
import Logging
import PostgresNIO
import Sesame

/// An `AccountStore` in PostgreSQL: users, accounts, verification tokens and passkeys, over a `PostgresClient`
/// connection pool.
///
/// Times are `bigint` milliseconds since 1970 (the model keeps whole milliseconds, so they round-trip exactly). A user's deletion cascades to its
/// accounts and passkeys by foreign key, and to its verification tokens in the same transaction. Creating a user
/// with its first account is one transaction; unlinking an account or deleting a passkey locks the user's row
/// first, so two of them that would remove a user's last two ways to sign in cannot both succeed. Run
/// ``migrate()`` on start (or `sesame migrate`): the schema is versioned, and concurrent migrations queue on an
/// advisory lock.
public struct PostgresAccountStore: AccountStore, UserDirectory {
    /// Where the tables live.
    public var namespace: PostgresTableNamespace { connection.namespace }

    private let connection: PostgresStoreConnection
    private let users: String, accounts: String, tokens: String, authenticators: String, totp: String, recoveryCodes: String
    private let userLookups: LookupBatcher<AuthUser>
    private let accountLookups: LookupBatcher<AccountWithUser>

    /// An account and its user (`nil` when the join found none), as the batched join answers it.
    private struct AccountWithUser: Sendable {
        let account: AuthAccount
        let user: AuthUser?
    }

    /// Creates a store over a client; call ``migrate()`` once before first use.
    ///
    /// - Parameters:
    ///   - client: The connection pool; its `run()` must be running for the store to work.
    ///   - namespace: The schema and table prefix (default: `sesame_users`, … in the current schema).
    ///   - operationTimeout: The longest any operation may take before it throws
    ///     `SessionStoreError.unavailable(_:)` (default 5 seconds).
    ///   - logger: Where PostgresNIO logs the store's queries.
    public init(
        client: PostgresClient, namespace: PostgresTableNamespace = .default, operationTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "sesame.postgres.accounts")
    ) {
        connection = PostgresStoreConnection(client: client, namespace: namespace, operationTimeout: operationTimeout, logger: logger)
        users = namespace.table("users")
        accounts = namespace.table("accounts")
        tokens = namespace.table("verification_tokens")
        authenticators = namespace.table("authenticators")
        totp = namespace.table("totp")
        recoveryCodes = namespace.table("recovery_codes")
        // Lookups by ID that arrive while every lookup query is busy share the next one (`= ANY($1)`), as the
        // session store's do: under load, fewer, larger queries serve more.
        let connection = connection, users = users
        userLookups = LookupBatcher(maximumQueries: max(1, ProcessInfo.processInfo.activeProcessorCount / 2), deadline: operationTimeout) { ids in
            let query: PostgresQuery = "SELECT \(unescaped: Self.userColumns) FROM \(unescaped: users) WHERE id = ANY(\(ids))"
            let found = try await connection.rowsWithoutDeadline(query, Self.decodeUser)
            return Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
        // Accounts by key are read with their user (a join: a returning sign-in needs both), batched the same way.
        let accounts = accounts
        accountLookups = LookupBatcher(maximumQueries: max(1, ProcessInfo.processInfo.activeProcessorCount / 2), deadline: operationTimeout) { keys in
            let (providers, issuers, ids) = Self.keyColumns(keys)
            let query: PostgresQuery = """
                SELECT \(unescaped: Self.qualifiedAccountColumns), \(unescaped: Self.qualifiedUserColumns)
                FROM \(unescaped: accounts) a JOIN unnest(\(providers)::text[], \(issuers)::text[], \(ids)::text[]) AS k (provider, issuer, id)
                    ON a.provider = k.provider AND a.issuer = k.issuer AND a.provider_account_id = k.id
                    LEFT JOIN \(unescaped: users) u ON u.id = a.user_id
                """
            let found = try await connection.rowsWithoutDeadline(query, Self.decodeAccountAndUser)
            return Dictionary(found.map { (Self.lookupKey($0.account.key), $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Whether a key can name a stored account: PostgreSQL text holds no NUL, so a key with one names none.
    private static func isStorable(_ key: AccountKey) -> Bool {
        !key.provider.utf8.contains(0) && !key.issuer.utf8.contains(0) && !key.providerAccountID.utf8.contains(0)
    }

    /// Batched lookup keys split back into the provider, issuer and provider-account-ID columns.
    private static func keyColumns(_ keys: [String]) -> (providers: [String], issuers: [String], ids: [String]) {
        let parts = keys.map { $0.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init) }
        return (parts.map { $0[0] }, parts.map { $0[1] }, parts.map { $0[2] })
    }

    /// An account key as one string for the lookup batcher (PostgreSQL text holds no NUL, so none is ambiguous).
    private static func lookupKey(_ key: AccountKey) -> String {
        key.provider + "\u{0}" + key.issuer + "\u{0}" + key.providerAccountID
    }

    /// The schema version the database is at (0 before the first migration).
    ///
    /// - Returns: The newest version applied.
    public func schemaVersion() async throws -> Int {
        let ledger = namespace.table("schema_migrations")
        do {
            return try await rows("SELECT coalesce(max(version), 0)::int8 FROM \(unescaped: ledger) WHERE component = 'accounts'", { try $0.decode(Int.self) }).first ?? 0
        } catch SessionStoreError.invalidResponse(let detail) where detail.contains("42P01") {
            return 0  // no ledger yet
        }
    }

    /// Brings the schema to its newest version (idempotent, safe from several processes at once).
    ///
    /// - Returns: The versions applied now (empty when the schema was current).
    /// - Throws: `SessionStoreError` when the server cannot be reached or refuses the statements.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await migrate(through: nil)
    }

    /// Brings the schema to `version` (`nil`: the newest); tests stop earlier to make an older schema to upgrade.
    ///
    /// - Returns: The versions applied now.
    func migrate(through version: Int?) async throws -> [Int] {
        let namespace = connection.namespace
        let versions: [[String]] = [
            [
                """
                CREATE TABLE \(users) (
                    id text PRIMARY KEY, email text, email_verified bigint, name text, image text,
                    created_at bigint NOT NULL, updated_at bigint NOT NULL, payload bytea,
                    CONSTRAINT \(namespace.index("users_email_key")) UNIQUE (email)
                )
                """,
                """
                CREATE TABLE \(accounts) (
                    provider text NOT NULL, issuer text NOT NULL, provider_account_id text NOT NULL,
                    user_id text NOT NULL REFERENCES \(users) (id) ON DELETE CASCADE, type text NOT NULL, tokens bytea,
                    needs_reauthentication boolean NOT NULL DEFAULT false, created_at bigint NOT NULL,
                    CONSTRAINT \(namespace.index("accounts_pkey")) PRIMARY KEY (provider, issuer, provider_account_id)
                )
                """,
                "CREATE INDEX \(namespace.index("accounts_user_idx")) ON \(accounts) (user_id)",
                """
                CREATE TABLE \(tokens) (
                    identifier text NOT NULL, token_hash bytea NOT NULL, purpose text NOT NULL, expires_at bigint NOT NULL,
                    PRIMARY KEY (identifier, token_hash)
                )
                """,
                """
                CREATE TABLE \(authenticators) (
                    credential_id bytea NOT NULL, user_id text NOT NULL REFERENCES \(users) (id) ON DELETE CASCADE,
                    public_key bytea NOT NULL, counter bigint NOT NULL, backed_up boolean NOT NULL, device_type text NOT NULL,
                    transports text NOT NULL, name text, created_at bigint NOT NULL,
                    CONSTRAINT \(namespace.index("authenticators_pkey")) PRIMARY KEY (credential_id)
                )
                """,
                "CREATE INDEX \(namespace.index("authenticators_user_idx")) ON \(authenticators) (user_id)",
            ],
            // 2: the refresh lease, so that of several processes one refreshes an account's tokens.
            ["ALTER TABLE \(accounts) ADD COLUMN refresh_lease_until bigint"],
            // 3: password accounts keep their hash in a column of their own (never with the sealed provider tokens,
            // whose key could be lost).
            ["ALTER TABLE \(accounts) ADD COLUMN password_hash text"],
            // 4: authenticator-app enrolments and their recovery codes (hashes), deleted with their user.
            [
                """
                CREATE TABLE \(totp) (
                    user_id text NOT NULL REFERENCES \(users) (id) ON DELETE CASCADE, secret bytea NOT NULL, last_step bigint,
                    created_at bigint NOT NULL, CONSTRAINT \(namespace.index("totp_pkey")) PRIMARY KEY (user_id)
                )
                """,
                """
                CREATE TABLE \(recoveryCodes) (
                    user_id text NOT NULL REFERENCES \(users) (id) ON DELETE CASCADE, code_hash bytea NOT NULL,
                    CONSTRAINT \(namespace.index("recovery_codes_pkey")) PRIMARY KEY (user_id, code_hash)
                )
                """,
            ],
            // 5: when a passkey last signed in, and when its signature counter went backwards (flagged: refused).
            ["ALTER TABLE \(authenticators) ADD COLUMN last_used_at bigint, ADD COLUMN flagged_at bigint"],
        ]
        return try await connection.migrateVersioned(component: "accounts", versions: Array(versions.prefix(version ?? versions.count)))
    }

    // MARK: Running

    /// Runs `body` in a transaction, with uniqueness violations as ``AccountStoreError``.
    private func transaction<Value: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Value) async throws -> Value {
        let prefix = namespace.prefix
        return try await connection.perform { client, logger in
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection, logger) }
            } catch {
                throw Self.conflict(error, prefix: prefix) ?? error
            }
        }
    }

    private func rows<Row: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> Row) async throws -> [Row] {
        let prefix = namespace.prefix
        return try await connection.perform { client, logger in
            do {
                var rows: [Row] = []
                for try await row in try await client.query(query, logger: logger) { rows.append(try decode(row)) }
                return rows
            } catch {
                throw Self.conflict(error, prefix: prefix) ?? error
            }
        }
    }

    private static func collect<Row>(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger, _ decode: (PostgresRow) throws -> Row) async throws -> [Row] {
        var rows: [Row] = []
        for try await row in try await connection.query(query, logger: logger) { rows.append(try decode(row)) }
        return rows
    }

    /// The uniqueness rule a failed write broke, if that is why it failed.
    private static func conflict(_ error: any Error, prefix: String) -> AccountStoreError? {
        var error = error
        if let transaction = error as? PostgresTransactionError, let cause = transaction.closureError ?? transaction.commitError { error = cause }
        guard let error = error as? PSQLError, error.serverInfo?[.sqlState] == "23505", let constraint = error.serverInfo?[.constraintName] else {
            return error as? AccountStoreError
        }
        switch constraint {
        case prefix + "users_email_key": return .emailInUse
        case prefix + "users_pkey": return .userInUse
        case prefix + "accounts_pkey": return .accountInUse
        case prefix + "authenticators_pkey": return .authenticatorInUse
        default: return nil
        }
    }

    // MARK: Users

    private static let userColumns = "id, email, email_verified, name, image, created_at, updated_at, payload"
    /// The same, qualified with `u.`, for a join.
    private static let qualifiedUserColumns = qualified(userColumns, by: "u")

    public func user(id: String) async throws -> AuthUser? {
        try await userLookups.value(for: id)
    }

    public func user(email: String) async throws -> AuthUser? {
        try await rows("SELECT \(unescaped: Self.userColumns) FROM \(unescaped: users) WHERE email = \(email)", Self.decodeUser).first
    }

    public func users(after cursor: String?, limit: Int) async throws -> [AuthUser] {
        // Byte order whatever the database's collation.
        let cursor = cursor ?? "", limit = max(1, limit)
        return try await rows(
            "SELECT \(unescaped: Self.userColumns) FROM \(unescaped: users) WHERE id COLLATE \"C\" > \(cursor) ORDER BY id COLLATE \"C\" LIMIT \(limit)",
            Self.decodeUser)
    }

    public func createUser(_ user: AuthUser, account: AuthAccount?) async throws {
        let users = users, insertAccount = account.map(insertAccountQuery)
        try await transaction { connection, logger in
            try await connection.query(
                """
                INSERT INTO \(unescaped: users) (\(unescaped: Self.userColumns)) VALUES (\(user.id), \(user.email), \(user.emailVerified?.millisecondsSince1970),
                    \(user.name), \(user.image), \(user.createdAt.millisecondsSince1970), \(user.updatedAt.millisecondsSince1970), \(user.payloadJSON.map { ByteBuffer(bytes: $0) }))
                """, logger: logger)
            if let insertAccount { try await connection.query(insertAccount, logger: logger) }
        }
    }

    public func updateUser(_ user: AuthUser) async throws -> Bool {
        try await !rows(
            """
            UPDATE \(unescaped: users) SET email = \(user.email), email_verified = \(user.emailVerified?.millisecondsSince1970), name = \(user.name),
                image = \(user.image), created_at = \(user.createdAt.millisecondsSince1970), updated_at = \(user.updatedAt.millisecondsSince1970),
                payload = \(user.payloadJSON.map { ByteBuffer(bytes: $0) })
            WHERE id = \(user.id) RETURNING id
            """, { try $0.decode(String.self) }
        ).isEmpty
    }

    public func deleteUser(id: String) async throws -> Bool {
        let users = users, tokens = tokens
        return try await transaction { connection, logger in
            let emails = try await Self.collect(connection, "DELETE FROM \(unescaped: users) WHERE id = \(id) RETURNING email", logger: logger) {
                try $0.decode(String?.self)
            }
            guard let email = emails.first else { return false }
            if let email { try await connection.query("DELETE FROM \(unescaped: tokens) WHERE identifier = \(email)", logger: logger) }
            try await connection.query("DELETE FROM \(unescaped: tokens) WHERE identifier = \(VerificationToken.emailChangeIdentifier(userID: id))", logger: logger)
            return true
        }
    }

    private static func decodeUser(_ row: PostgresRow) throws -> AuthUser {
        let (id, email, verified, name, image, created, updated, payload) = try row.decode(
            (String, String?, Int64?, String?, String?, Int64, Int64, ByteBuffer?).self)
        return user(id: id, email: email, verified: verified, name: name, image: image, created: created, updated: updated, payload: payload)
    }

    /// A user from its columns' values.
    private static func user(
        id: String, email: String?, verified: Int64?, name: String?, image: String?, created: Int64, updated: Int64, payload: ByteBuffer?
    ) -> AuthUser {
        AuthUser(
            id: id, email: email, emailVerified: verified.map(Date.init(millisecondsSince1970:)), name: name, image: image,
            createdAt: Date(millisecondsSince1970: created), updatedAt: Date(millisecondsSince1970: updated),
            payloadJSON: payload.map { Array($0.readableBytesView) })
    }

    // MARK: Accounts

    private static let accountColumns = "provider, issuer, provider_account_id, user_id, type, tokens, needs_reauthentication, created_at, password_hash"
    /// The same, qualified with `a.`, for a join.
    private static let qualifiedAccountColumns = qualified(accountColumns, by: "a")

    /// A column list with each column qualified by a table alias.
    private static func qualified(_ columns: String, by alias: String) -> String {
        columns.split(separator: ",").map { alias + "." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
    }

    private func insertAccountQuery(_ account: AuthAccount) -> PostgresQuery {
        """
        INSERT INTO \(unescaped: accounts) (\(unescaped: Self.accountColumns)) VALUES (\(account.key.provider), \(account.key.issuer),
            \(account.key.providerAccountID), \(account.userID), \(account.type.rawValue), \(account.sealedTokens.map { ByteBuffer(bytes: $0) }),
            \(account.needsReauthentication), \(account.createdAt.millisecondsSince1970), \(account.passwordHash))
        """
    }

    public func account(_ key: AccountKey) async throws -> AuthAccount? {
        guard Self.isStorable(key) else { return nil }
        return try await accountLookups.value(for: Self.lookupKey(key))?.account
    }

    public func accountAndUser(_ key: AccountKey) async throws -> (account: AuthAccount, user: AuthUser?)? {
        guard Self.isStorable(key) else { return nil }
        return try await accountLookups.value(for: Self.lookupKey(key)).map { ($0.account, $0.user) }
    }

    public func recordSignIn(_ key: AccountKey, tokens: [UInt8]) async throws -> (account: AuthAccount, user: AuthUser?)? {
        guard Self.isStorable(key) else { return nil }
        // One statement: the tokens replaced (lease and re-authentication mark cleared), the account read back
        // with its user.
        return try await rows(
            """
            WITH a AS (
                UPDATE \(unescaped: accounts) SET tokens = \(ByteBuffer(bytes: tokens)), needs_reauthentication = false, refresh_lease_until = NULL
                WHERE provider = \(key.provider) AND issuer = \(key.issuer) AND provider_account_id = \(key.providerAccountID)
                RETURNING \(unescaped: Self.accountColumns)
            )
            SELECT \(unescaped: Self.qualifiedAccountColumns), \(unescaped: Self.qualifiedUserColumns)
            FROM a LEFT JOIN \(unescaped: users) u ON u.id = a.user_id
            """, Self.decodeAccountAndUser
        ).first.map { ($0.account, $0.user) }
    }

    public func accounts(userID: String) async throws -> [AuthAccount] {
        try await rows(
            """
            SELECT \(unescaped: Self.accountColumns) FROM \(unescaped: accounts) WHERE user_id = \(userID)
            ORDER BY created_at, provider, issuer, provider_account_id
            """, Self.decodeAccount)
    }

    public func linkAccount(_ account: AuthAccount) async throws -> Bool {
        let users = users, insert = insertAccountQuery(account)
        return try await transaction { connection, logger in
            // The user's row locked: a deletion cannot slip in between the check and the insert.
            guard try await !Self.collect(connection, "SELECT 1 FROM \(unescaped: users) WHERE id = \(account.userID) FOR SHARE", logger: logger, { _ in 1 }).isEmpty
            else { return false }
            try await connection.query(insert, logger: logger)
            return true
        }
    }

    public func unlinkAccount(_ key: AccountKey, userID: String) async throws -> UnlinkOutcome {
        let users = users, accounts = accounts, authenticators = authenticators
        return try await transaction { connection, logger in
            // Locking the user's row serializes this user's unlinks: each counts what the one before left.
            _ = try await Self.collect(connection, "SELECT 1 FROM \(unescaped: users) WHERE id = \(userID) FOR UPDATE", logger: logger) { _ in 1 }
            let owned = try await Self.collect(
                connection,
                """
                SELECT 1 FROM \(unescaped: accounts) WHERE provider = \(key.provider) AND issuer = \(key.issuer)
                    AND provider_account_id = \(key.providerAccountID) AND user_id = \(userID)
                """, logger: logger) { _ in 1 }
            guard !owned.isEmpty else { return .notFound }
            let methods = try await Self.collect(
                connection,
                """
                SELECT (SELECT count(*) FROM \(unescaped: accounts) WHERE user_id = \(userID))
                     + (SELECT count(*) FROM \(unescaped: authenticators) WHERE user_id = \(userID) AND flagged_at IS NULL)
                """, logger: logger) { try $0.decode(Int.self) }
            guard (methods.first ?? 0) > 1 else { return .lastSignInMethod }
            try await connection.query(
                """
                DELETE FROM \(unescaped: accounts) WHERE provider = \(key.provider) AND issuer = \(key.issuer)
                    AND provider_account_id = \(key.providerAccountID) AND user_id = \(userID)
                """, logger: logger)
            return .unlinked
        }
    }

    public func replaceTokens(_ key: AccountKey, expected: [UInt8]?, with tokens: [UInt8]?, needsReauthentication: Bool) async throws -> Bool {
        try await !rows(
            """
            UPDATE \(unescaped: accounts) SET tokens = \(tokens.map { ByteBuffer(bytes: $0) }), needs_reauthentication = \(needsReauthentication),
                refresh_lease_until = NULL
            WHERE provider = \(key.provider) AND issuer = \(key.issuer) AND provider_account_id = \(key.providerAccountID)
                AND tokens IS NOT DISTINCT FROM \(expected.map { ByteBuffer(bytes: $0) })
            RETURNING 1
            """, { _ in 1 }
        ).isEmpty
    }

    public func replacePasswordHash(_ key: AccountKey, expected: String?, with hash: String) async throws -> Bool {
        guard Self.isStorable(key) else { return false }
        return try await !rows(
            """
            UPDATE \(unescaped: accounts) SET password_hash = \(hash)
            WHERE provider = \(key.provider) AND issuer = \(key.issuer) AND provider_account_id = \(key.providerAccountID)
                AND password_hash IS NOT DISTINCT FROM \(expected)
            RETURNING 1
            """, { _ in 1 }
        ).isEmpty
    }

    public func claimTokenRefresh(_ key: AccountKey, until: Date, now: Date) async throws -> AuthAccount? {
        try await rows(
            """
            UPDATE \(unescaped: accounts) SET refresh_lease_until = \(until.millisecondsSince1970)
            WHERE provider = \(key.provider) AND issuer = \(key.issuer) AND provider_account_id = \(key.providerAccountID)
                AND (refresh_lease_until IS NULL OR refresh_lease_until <= \(now.millisecondsSince1970))
            RETURNING \(unescaped: Self.accountColumns)
            """, Self.decodeAccount
        ).first
    }

    public func releaseTokenRefresh(_ key: AccountKey) async throws {
        _ = try await rows(
            """
            UPDATE \(unescaped: accounts) SET refresh_lease_until = NULL
            WHERE provider = \(key.provider) AND issuer = \(key.issuer) AND provider_account_id = \(key.providerAccountID) RETURNING 1
            """, { _ in 1 })
    }

    private static func decodeAccount(_ row: PostgresRow) throws -> AuthAccount {
        let (provider, issuer, id, userID, type, tokens, needsReauthentication, created, passwordHash) = try row.decode(
            (String, String, String, String, String, ByteBuffer?, Bool, Int64, String?).self)
        return try account(
            provider: provider, issuer: issuer, id: id, userID: userID, type: type, tokens: tokens, needsReauthentication: needsReauthentication,
            created: created, passwordHash: passwordHash)
    }

    /// An account's columns followed by its user's (all `NULL` when the user is missing).
    private static func decodeAccountAndUser(_ row: PostgresRow) throws -> AccountWithUser {
        let (provider, issuer, id, userID, type, tokens, needsReauthentication, created, passwordHash, ownerID, email, verified, name, image, userCreated, updated, payload) =
            try row.decode(
                (String, String, String, String, String, ByteBuffer?, Bool, Int64, String?, String?, String?, Int64?, String?, String?, Int64?, Int64?, ByteBuffer?).self)
        let account = try account(
            provider: provider, issuer: issuer, id: id, userID: userID, type: type, tokens: tokens, needsReauthentication: needsReauthentication,
            created: created, passwordHash: passwordHash)
        guard let ownerID, let userCreated, let updated else { return AccountWithUser(account: account, user: nil) }
        return AccountWithUser(
            account: account,
            user: user(id: ownerID, email: email, verified: verified, name: name, image: image, created: userCreated, updated: updated, payload: payload))
    }

    /// An account from its columns' values.
    private static func account(
        provider: String, issuer: String, id: String, userID: String, type: String, tokens: ByteBuffer?, needsReauthentication: Bool, created: Int64,
        passwordHash: String?
    ) throws -> AuthAccount {
        guard let accountType = AccountType(rawValue: type) else { throw SessionStoreError.invalidResponse("PostgreSQL: unknown account type") }
        return AuthAccount(
            key: AccountKey(provider: provider, issuer: issuer, providerAccountID: id), userID: userID, type: accountType,
            sealedTokens: tokens.map { Array($0.readableBytesView) }, needsReauthentication: needsReauthentication, passwordHash: passwordHash,
            createdAt: Date(millisecondsSince1970: created))
    }

    // MARK: Verification tokens

    public func createVerificationToken(_ token: VerificationToken) async throws {
        _ = try await rows(
            """
            INSERT INTO \(unescaped: tokens) (identifier, token_hash, purpose, expires_at)
            VALUES (\(token.identifier), \(ByteBuffer(bytes: token.tokenHash)), \(token.purpose), \(token.expiresAt.millisecondsSince1970)) RETURNING 1
            """, { _ in 1 })
    }

    public func useVerificationToken(identifier: String, tokenHash: [UInt8], purpose: String, now: Date) async throws -> VerificationToken? {
        let used = try await rows(
            """
            DELETE FROM \(unescaped: tokens) WHERE identifier = \(identifier) AND token_hash = \(ByteBuffer(bytes: tokenHash)) AND purpose = \(purpose)
            RETURNING expires_at
            """, { try $0.decode(Int64.self) })
        guard let expires = used.first, expires > now.millisecondsSince1970 else { return nil }
        return VerificationToken(identifier: identifier, tokenHash: tokenHash, expiresAt: Date(millisecondsSince1970: expires), purpose: purpose)
    }

    public func deleteVerificationTokens(identifier: String) async throws {
        _ = try await rows("DELETE FROM \(unescaped: tokens) WHERE identifier = \(identifier) RETURNING 1", { _ in 1 })
    }

    // MARK: Passkeys

    private static let authenticatorColumns =
        "credential_id, user_id, public_key, counter, backed_up, device_type, transports, name, created_at, last_used_at, flagged_at"

    public func createAuthenticator(_ authenticator: PasskeyAuthenticator) async throws -> Bool {
        let users = users, authenticators = authenticators
        return try await transaction { connection, logger in
            guard try await !Self.collect(connection, "SELECT 1 FROM \(unescaped: users) WHERE id = \(authenticator.userID) FOR SHARE", logger: logger, { _ in 1 }).isEmpty
            else { return false }
            try await connection.query(Self.insertAuthenticator(authenticator, into: authenticators), logger: logger)
            return true
        }
    }

    public func createUser(_ user: AuthUser, authenticator: PasskeyAuthenticator) async throws {
        let users = users, insert = Self.insertAuthenticator(authenticator, into: authenticators)
        try await transaction { connection, logger in
            try await connection.query(
                """
                INSERT INTO \(unescaped: users) (\(unescaped: Self.userColumns)) VALUES (\(user.id), \(user.email), \(user.emailVerified?.millisecondsSince1970),
                    \(user.name), \(user.image), \(user.createdAt.millisecondsSince1970), \(user.updatedAt.millisecondsSince1970), \(user.payloadJSON.map { ByteBuffer(bytes: $0) }))
                """, logger: logger)
            try await connection.query(insert, logger: logger)
        }
    }

    private static func insertAuthenticator(_ authenticator: PasskeyAuthenticator, into authenticators: String) -> PostgresQuery {
        """
        INSERT INTO \(unescaped: authenticators) (\(unescaped: Self.authenticatorColumns)) VALUES (\(ByteBuffer(bytes: authenticator.credentialID)),
            \(authenticator.userID), \(ByteBuffer(bytes: authenticator.publicKey)), \(Int64(authenticator.counter)), \(authenticator.backedUp),
            \(authenticator.deviceType), \(authenticator.transports.joined(separator: ",")), \(authenticator.name), \(authenticator.createdAt.millisecondsSince1970),
            \(authenticator.lastUsedAt?.millisecondsSince1970), \(authenticator.flaggedAt?.millisecondsSince1970))
        """
    }

    public func authenticator(credentialID: [UInt8]) async throws -> PasskeyAuthenticator? {
        try await rows(
            "SELECT \(unescaped: Self.authenticatorColumns) FROM \(unescaped: authenticators) WHERE credential_id = \(ByteBuffer(bytes: credentialID))",
            Self.decodeAuthenticator
        ).first
    }

    public func authenticators(userID: String) async throws -> [PasskeyAuthenticator] {
        try await rows(
            "SELECT \(unescaped: Self.authenticatorColumns) FROM \(unescaped: authenticators) WHERE user_id = \(userID) ORDER BY created_at, credential_id",
            Self.decodeAuthenticator)
    }

    public func recordAuthenticatorUse(credentialID: [UInt8], expectedCounter: UInt32, counter: UInt32, backedUp: Bool, at date: Date) async throws -> Bool {
        // One statement: a racing sign-in waits for the first one's row lock, then finds the counter changed.
        try await !rows(
            """
            UPDATE \(unescaped: authenticators) SET counter = \(Int64(counter)), backed_up = \(backedUp), last_used_at = \(date.millisecondsSince1970)
            WHERE credential_id = \(ByteBuffer(bytes: credentialID)) AND counter = \(Int64(expectedCounter)) AND flagged_at IS NULL
            RETURNING 1
            """, { _ in 1 }
        ).isEmpty
    }

    public func flagAuthenticator(credentialID: [UInt8], at date: Date) async throws -> Bool {
        try await !rows(
            """
            UPDATE \(unescaped: authenticators) SET flagged_at = coalesce(flagged_at, \(date.millisecondsSince1970))
            WHERE credential_id = \(ByteBuffer(bytes: credentialID)) RETURNING 1
            """, { _ in 1 }
        ).isEmpty
    }

    public func renameAuthenticator(credentialID: [UInt8], userID: String, name: String?) async throws -> Bool {
        try await !rows(
            """
            UPDATE \(unescaped: authenticators) SET name = \(name)
            WHERE credential_id = \(ByteBuffer(bytes: credentialID)) AND user_id = \(userID) RETURNING 1
            """, { _ in 1 }
        ).isEmpty
    }

    public func deleteAuthenticator(credentialID: [UInt8], userID: String) async throws -> UnlinkOutcome {
        let users = users, accounts = accounts, authenticators = authenticators
        return try await transaction { connection, logger in
            // Locking the user's row, as `unlinkAccount` does, serializes this user's deletions and unlinks: each
            // counts what the one before left.
            _ = try await Self.collect(connection, "SELECT 1 FROM \(unescaped: users) WHERE id = \(userID) FOR UPDATE", logger: logger) { _ in 1 }
            let owned = try await Self.collect(
                connection,
                "SELECT flagged_at FROM \(unescaped: authenticators) WHERE credential_id = \(ByteBuffer(bytes: credentialID)) AND user_id = \(userID)",
                logger: logger) { try $0.decode(Int64?.self) }
            guard let flaggedAt = owned.first else { return .notFound }
            // A flagged passkey signs nobody in: removing it never removes a way in, and it is not counted as one.
            if flaggedAt != nil {
                try await connection.query(
                    "DELETE FROM \(unescaped: authenticators) WHERE credential_id = \(ByteBuffer(bytes: credentialID)) AND user_id = \(userID)",
                    logger: logger)
                return .unlinked
            }
            let methods = try await Self.collect(
                connection,
                """
                SELECT (SELECT count(*) FROM \(unescaped: accounts) WHERE user_id = \(userID))
                     + (SELECT count(*) FROM \(unescaped: authenticators) WHERE user_id = \(userID) AND flagged_at IS NULL)
                """, logger: logger) { try $0.decode(Int.self) }
            guard (methods.first ?? 0) > 1 else { return .lastSignInMethod }
            try await connection.query(
                "DELETE FROM \(unescaped: authenticators) WHERE credential_id = \(ByteBuffer(bytes: credentialID)) AND user_id = \(userID)",
                logger: logger)
            return .unlinked
        }
    }

    private static func decodeAuthenticator(_ row: PostgresRow) throws -> PasskeyAuthenticator {
        let (credentialID, userID, publicKey, counter, backedUp, deviceType, transports, name, created, lastUsed, flagged) = try row.decode(
            (ByteBuffer, String, ByteBuffer, Int64, Bool, String, String, String?, Int64, Int64?, Int64?).self)
        guard let counterValue = UInt32(exactly: counter) else { throw SessionStoreError.invalidResponse("PostgreSQL: a passkey counter is out of range") }
        return PasskeyAuthenticator(
            credentialID: Array(credentialID.readableBytesView), userID: userID, publicKey: Array(publicKey.readableBytesView),
            counter: counterValue, backedUp: backedUp, deviceType: deviceType, transports: transports.split(separator: ",").map(String.init),
            name: name, createdAt: Date(millisecondsSince1970: created), lastUsedAt: lastUsed.map(Date.init(millisecondsSince1970:)),
            flaggedAt: flagged.map(Date.init(millisecondsSince1970:)))
    }

    // MARK: Second factor

    public func totpEnrolment(userID: String) async throws -> TOTPEnrolment? {
        try await rows("SELECT secret, last_step, created_at FROM \(unescaped: totp) WHERE user_id = \(userID)") { row in
            let (secret, lastStep, created) = try row.decode((ByteBuffer, Int64?, Int64).self)
            return TOTPEnrolment(userID: userID, sealedSecret: Array(secret.readableBytesView), lastUsedStep: lastStep, createdAt: Date(millisecondsSince1970: created))
        }.first
    }

    public func saveTOTPEnrolment(_ enrolment: TOTPEnrolment, recoveryCodeHashes: [[UInt8]]) async throws -> Bool {
        let users = users, totp = totp, recoveryCodes = recoveryCodes
        return try await transaction { connection, logger in
            guard try await !Self.collect(connection, "SELECT 1 FROM \(unescaped: users) WHERE id = \(enrolment.userID) FOR SHARE", logger: logger, { _ in 1 }).isEmpty
            else { return false }
            try await connection.query(
                """
                INSERT INTO \(unescaped: totp) (user_id, secret, last_step, created_at)
                VALUES (\(enrolment.userID), \(ByteBuffer(bytes: enrolment.sealedSecret)), \(enrolment.lastUsedStep), \(enrolment.createdAt.millisecondsSince1970))
                ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, last_step = EXCLUDED.last_step, created_at = EXCLUDED.created_at
                """, logger: logger)
            try await Self.writeRecoveryCodes(connection, table: recoveryCodes, userID: enrolment.userID, hashes: recoveryCodeHashes, logger: logger)
            return true
        }
    }

    public func deleteTOTPEnrolment(userID: String) async throws -> Bool {
        let totp = totp, recoveryCodes = recoveryCodes
        return try await transaction { connection, logger in
            try await connection.query("DELETE FROM \(unescaped: recoveryCodes) WHERE user_id = \(userID)", logger: logger)
            return try await !Self.collect(connection, "DELETE FROM \(unescaped: totp) WHERE user_id = \(userID) RETURNING 1", logger: logger, { _ in 1 }).isEmpty
        }
    }

    public func useTOTPStep(userID: String, step: Int64) async throws -> Bool {
        try await !rows(
            """
            UPDATE \(unescaped: totp) SET last_step = \(step) WHERE user_id = \(userID) AND (last_step IS NULL OR last_step < \(step)) RETURNING 1
            """, { _ in 1 }
        ).isEmpty
    }

    public func useRecoveryCode(userID: String, codeHash: [UInt8]) async throws -> Bool {
        try await !rows(
            "DELETE FROM \(unescaped: recoveryCodes) WHERE user_id = \(userID) AND code_hash = \(ByteBuffer(bytes: codeHash)) RETURNING 1", { _ in 1 }
        ).isEmpty
    }

    public func replaceRecoveryCodes(userID: String, hashes: [[UInt8]]) async throws -> Bool {
        let totp = totp, recoveryCodes = recoveryCodes
        return try await transaction { connection, logger in
            guard try await !Self.collect(connection, "SELECT 1 FROM \(unescaped: totp) WHERE user_id = \(userID) FOR UPDATE", logger: logger, { _ in 1 }).isEmpty
            else { return false }
            try await Self.writeRecoveryCodes(connection, table: recoveryCodes, userID: userID, hashes: hashes, logger: logger)
            return true
        }
    }

    private static func writeRecoveryCodes(_ connection: PostgresConnection, table: String, userID: String, hashes: [[UInt8]], logger: Logger) async throws {
        try await connection.query("DELETE FROM \(unescaped: table) WHERE user_id = \(userID)", logger: logger)
        let unique = Array(Set(hashes)).map { ByteBuffer(bytes: $0) }
        guard !unique.isEmpty else { return }
        try await connection.query("INSERT INTO \(unescaped: table) (user_id, code_hash) SELECT \(userID), unnest(\(unique)::bytea[])", logger: logger)
    }

    public func recoveryCodeCount(userID: String) async throws -> Int {
        try await rows("SELECT count(*) FROM \(unescaped: recoveryCodes) WHERE user_id = \(userID)", { try $0.decode(Int.self) }).first ?? 0
    }
}
