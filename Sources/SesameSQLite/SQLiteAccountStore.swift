import Foundation
import NIOCore
import Sesame
import SQLiteNIO
import Synchronization

/// An `AccountStore` in a SQLite file: users, accounts, verification tokens and passkeys, the embedded default.
///
/// Operations run on a connection of the store's own, one at a time, on the calling task's thread (the statements
/// are short and indexed: a hop to a thread pool would cost more than most of them); writes run in a transaction
/// (`BEGIN IMMEDIATE`) or as one statement; foreign keys cascade a user's deletion to its accounts and passkeys, and a trigger to its
/// verification tokens. The schema is versioned (``migrate()``, also run on first use): two processes that
/// migrate at once take turns on SQLite's write lock, and the second finds nothing left to do.
public final class SQLiteAccountStore: AccountStore, UserDirectory {
    /// The database file's path.
    public let path: String
    private let busyTimeoutMilliseconds: Int32
    /// The connection, opened and set up on first use (and again after a failed opening or ``close()``); used
    /// only while `lock` is held.
    private let database = Mutex<SQLiteDirectConnection?>(nil)
    private let lock = SQLiteSerialLock()

    /// Creates a store in a database file (created if missing); it may be the file the other SQLite stores use.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - busyTimeout: How long a write waits for another connection's write lock before the operation fails
    ///     with `SessionStoreError.unavailable(_:)` (default 1 second; statements run on the calling task's
    ///     thread, so keep it short).
    public init(path: String, busyTimeout: Duration = .seconds(1)) {
        self.path = path
        let (seconds, attoseconds) = busyTimeout.components
        busyTimeoutMilliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Creates a store in the file of a ``SQLiteStorage``.
    ///
    /// - Parameter storage: The storage whose file to use.
    public convenience init(storage: SQLiteStorage) {
        self.init(path: storage.path)
    }

    /// The schema versions, oldest first; a version's statements run in one transaction.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE sesame_users (
                id TEXT PRIMARY KEY NOT NULL, email TEXT UNIQUE, email_verified INTEGER, name TEXT, image TEXT,
                created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, payload BLOB
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE sesame_accounts (
                provider TEXT NOT NULL, issuer TEXT NOT NULL, provider_account_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES sesame_users (id) ON DELETE CASCADE, type TEXT NOT NULL, tokens BLOB,
                needs_reauthentication INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
                PRIMARY KEY (provider, issuer, provider_account_id)
            ) WITHOUT ROWID
            """,
            "CREATE INDEX sesame_accounts_user ON sesame_accounts (user_id)",
            """
            CREATE TABLE sesame_verification_tokens (
                identifier TEXT NOT NULL, token_hash BLOB NOT NULL, purpose TEXT NOT NULL, expires_at INTEGER NOT NULL,
                PRIMARY KEY (identifier, token_hash)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE sesame_authenticators (
                credential_id BLOB PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES sesame_users (id) ON DELETE CASCADE,
                public_key BLOB NOT NULL, counter INTEGER NOT NULL, backed_up INTEGER NOT NULL, device_type TEXT NOT NULL,
                transports TEXT NOT NULL, name TEXT, created_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
            "CREATE INDEX sesame_authenticators_user ON sesame_authenticators (user_id)",
            """
            CREATE TRIGGER sesame_users_delete_tokens AFTER DELETE ON sesame_users WHEN OLD.email IS NOT NULL
            BEGIN DELETE FROM sesame_verification_tokens WHERE identifier = OLD.email; END
            """,
        ],
        // 2: the refresh lease, so that of several processes one refreshes an account's tokens.
        ["ALTER TABLE sesame_accounts ADD COLUMN refresh_lease_until INTEGER"],
        // 3: a deleted user's pending email change goes with it (`VerificationToken.emailChangeIdentifier(userID:)`).
        [
            """
            CREATE TRIGGER sesame_users_delete_email_change AFTER DELETE ON sesame_users
            BEGIN DELETE FROM sesame_verification_tokens WHERE identifier = 'email-change:' || OLD.id; END
            """
        ],
        // 4: password accounts keep their hash in a column of their own (never with the sealed provider tokens,
        // whose key could be lost).
        ["ALTER TABLE sesame_accounts ADD COLUMN password_hash TEXT"],
        // 5: authenticator-app enrolments and their recovery codes (hashes), deleted with their user.
        [
            """
            CREATE TABLE sesame_totp (
                user_id TEXT PRIMARY KEY NOT NULL REFERENCES sesame_users (id) ON DELETE CASCADE, secret BLOB NOT NULL,
                last_step INTEGER, created_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE sesame_recovery_codes (
                user_id TEXT NOT NULL REFERENCES sesame_users (id) ON DELETE CASCADE, code_hash BLOB NOT NULL,
                PRIMARY KEY (user_id, code_hash)
            ) WITHOUT ROWID
            """,
        ],
        // 6: when a passkey last signed in, and when its signature counter went backwards (flagged: refused).
        [
            "ALTER TABLE sesame_authenticators ADD COLUMN last_used_at INTEGER",
            "ALTER TABLE sesame_authenticators ADD COLUMN flagged_at INTEGER",
        ],
    ]

    /// The schema version the database is at (0 before the first migration).
    ///
    /// - Returns: The newest version applied.
    public func schemaVersion() async throws -> Int {
        try await rows("SELECT coalesce(max(version), 0) AS v FROM sesame_schema_migrations WHERE component = 'accounts'", []).first?.column("v")?.integer ?? 0
    }

    /// Brings the schema to the newest version (idempotent). Runs on first use too.
    ///
    /// - Returns: The versions applied now (empty when the schema was current).
    /// - Throws: `SessionStoreError.unavailable(_:)` when the file cannot be opened or written.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await perform { database in try Self.migrate(database) }
    }

    /// Brings the schema of an open connection to `version` (default: the newest); tests stop earlier to make an
    /// older schema to upgrade.
    static func migrate(_ database: SQLiteDirectConnection, through version: Int = migrations.count) throws -> [Int] {
        try database.rows("BEGIN IMMEDIATE", [])
        do {
            try database.rows(
                "CREATE TABLE IF NOT EXISTS sesame_schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, applied_at REAL NOT NULL, PRIMARY KEY (component, version))",
                [])
            let current = try database.rows("SELECT coalesce(max(version), 0) AS v FROM sesame_schema_migrations WHERE component = 'accounts'")
                .first?.column("v")?.integer ?? 0
            var applied: [Int] = []
            for (index, statements) in migrations.prefix(version).enumerated() where index + 1 > current {
                for statement in statements { try database.rows(statement, []) }
                try database.rows(
                    "INSERT INTO sesame_schema_migrations (component, version, applied_at) VALUES ('accounts', ?1, ?2)",
                    [.integer(index + 1), .integer(Int(Date().millisecondsSince1970))])
                applied.append(index + 1)
            }
            try database.rows("COMMIT", [])
            return applied
        } catch {
            _ = try? database.rows("ROLLBACK", [])
            throw error
        }
    }

    // MARK: Connection

    /// Runs `body` with the connection, alone, mapping SQLite's failures to store errors. The connection is
    /// opened and set up (pragmas, migrations) on first use; a failed opening is retried by the next call.
    private func perform<Value: Sendable>(_ body: (SQLiteDirectConnection) throws -> Value) async throws -> Value {
        await lock.acquire()
        defer { lock.release() }
        do {
            return try body(try openConnection())
        } catch let error as AccountStoreError {
            throw error
        } catch let error as SQLiteDirectConnection.Failure {
            if let conflict = Self.conflict(error) { throw conflict }
            throw SessionStoreError.unavailable("SQLite: \(error)")
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError.unavailable("SQLite: \(error)")
        }
    }

    /// The open connection (call with `lock` held).
    private func openConnection() throws -> SQLiteDirectConnection {
        if let open = database.withLock({ $0 }) { return open }
        let opened = try SQLiteDirectConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"] {
            try opened.rows(pragma)
        }
        _ = try Self.migrate(opened)
        database.withLock { $0 = opened }
        return opened
    }

    /// Runs `body` in a write transaction.
    private func transaction<Value: Sendable>(_ body: (SQLiteDirectConnection) throws -> Value) async throws -> Value {
        try await perform { database in
            try database.rows("BEGIN IMMEDIATE")
            do {
                let value = try body(database)
                try database.rows("COMMIT")
                return value
            } catch {
                _ = try? database.rows("ROLLBACK")
                throw error
            }
        }
    }

    private static func conflict(_ error: SQLiteDirectConnection.Failure) -> AccountStoreError? {
        guard error.isUniquenessConflict else { return nil }
        if error.message.contains("sesame_users.email") { return .emailInUse }
        if error.message.contains("sesame_users.id") { return .userInUse }
        if error.message.contains("sesame_accounts.") { return .accountInUse }
        if error.message.contains("sesame_authenticators.") { return .authenticatorInUse }
        return nil
    }

    private func rows(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteDirectConnection.Row] {
        try await perform { try $0.rows(sql, binds) }
    }

    // MARK: Users

    private static let userColumns = "id, email, email_verified, name, image, created_at, updated_at, payload"

    public func user(id: String) async throws -> AuthUser? {
        try await rows("SELECT \(Self.userColumns) FROM sesame_users WHERE id = ?1", [.text(id)]).first.map(Self.decodeUser)
    }

    public func user(email: String) async throws -> AuthUser? {
        try await rows("SELECT \(Self.userColumns) FROM sesame_users WHERE email = ?1", [.text(email)]).first.map(Self.decodeUser)
    }

    public func users(after cursor: String?, limit: Int) async throws -> [AuthUser] {
        // TEXT compares bytewise (SQLite's BINARY collation).
        try await rows(
            "SELECT \(Self.userColumns) FROM sesame_users WHERE id > ?1 ORDER BY id LIMIT ?2", [.text(cursor ?? ""), .integer(max(1, limit))]
        ).map(Self.decodeUser)
    }

    public func createUser(_ user: AuthUser, account: AuthAccount?) async throws {
        try await transaction { database in
            try database.rows("INSERT INTO sesame_users (\(Self.userColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", Self.userBinds(user))
            if let account {
                try database.rows(Self.insertAccount, Self.accountBinds(account))
            }
        }
    }

    public func updateUser(_ user: AuthUser) async throws -> Bool {
        let updated = try await rows(
            "UPDATE sesame_users SET email = ?2, email_verified = ?3, name = ?4, image = ?5, created_at = ?6, updated_at = ?7, payload = ?8 WHERE id = ?1 RETURNING id",
            Self.userBinds(user))
        return !updated.isEmpty
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await !rows("DELETE FROM sesame_users WHERE id = ?1 RETURNING id", [.text(id)]).isEmpty
    }

    private static func userBinds(_ user: AuthUser) -> [SQLiteData] {
        [.text(user.id), text(user.email), user.emailVerified.map { .integer(Int($0.millisecondsSince1970)) } ?? .null, text(user.name), text(user.image),
         .integer(Int(user.createdAt.millisecondsSince1970)), .integer(Int(user.updatedAt.millisecondsSince1970)), blob(user.payloadJSON)]
    }

    private static func decodeUser(_ row: SQLiteDirectConnection.Row) throws -> AuthUser {
        try decodeUser(row, prefix: "")
    }

    private static func decodeUser(_ row: SQLiteDirectConnection.Row, prefix: String) throws -> AuthUser {
        func column(_ name: String) -> SQLiteData? { row.column(prefix + name) }
        guard let id = column("id")?.string, let created = column("created_at")?.integer, let updated = column("updated_at")?.integer else {
            throw SessionStoreError.invalidResponse("SQLite: a user row is incomplete")
        }
        return AuthUser(
            id: id, email: column("email")?.string, emailVerified: column("email_verified")?.integer.map { Date(millisecondsSince1970: Int64($0)) },
            name: column("name")?.string, image: column("image")?.string, createdAt: Date(millisecondsSince1970: Int64(created)),
            updatedAt: Date(millisecondsSince1970: Int64(updated)), payloadJSON: bytes(column("payload")))
    }

    // MARK: Accounts

    private static let accountColumns = "provider, issuer, provider_account_id, user_id, type, tokens, needs_reauthentication, created_at, password_hash"
    private static let insertAccount = "INSERT INTO sesame_accounts (\(accountColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"

    public func account(_ key: AccountKey) async throws -> AuthAccount? {
        try await rows(
            "SELECT \(Self.accountColumns) FROM sesame_accounts WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3",
            Self.keyBinds(key)
        ).first.map(Self.decodeAccount)
    }

    public func accounts(userID: String) async throws -> [AuthAccount] {
        try await rows("SELECT \(Self.accountColumns) FROM sesame_accounts WHERE user_id = ?1 ORDER BY created_at, provider, issuer, provider_account_id", [.text(userID)])
            .map(Self.decodeAccount)
    }

    /// The account and its user in one query.
    public func accountAndUser(_ key: AccountKey) async throws -> (account: AuthAccount, user: AuthUser?)? {
        try await rows(
            """
            SELECT \(Self.joinedColumns) FROM sesame_accounts a LEFT JOIN sesame_users u ON u.id = a.user_id
            WHERE a.provider = ?1 AND a.issuer = ?2 AND a.provider_account_id = ?3
            """, Self.keyBinds(key)
        ).first.map(Self.decodeAccountAndUser)
    }

    /// The tokens written and the account read back with its user, in one statement.
    public func recordSignIn(_ key: AccountKey, tokens: [UInt8]) async throws -> (account: AuthAccount, user: AuthUser?)? {
        try await rows(
            """
            UPDATE sesame_accounts SET tokens = ?4, needs_reauthentication = 0, refresh_lease_until = NULL
            WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3
            RETURNING \(Self.accountColumns), \(Self.ownerColumns)
            """, Self.keyBinds(key) + [Self.blob(tokens)]
        ).first.map(Self.decodeAccountAndUser)
    }

    /// The user columns, one name each.
    private static let userColumnNames = userColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    /// An account's columns (`a`) and its user's (`u`, named `u_…`), for a join.
    private static let joinedColumns = (accountColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespaces) }
        + userColumnNames.map { "u.\($0) AS u_\($0)" }).joined(separator: ", ")
    /// The account's user's columns (named `u_…`) as subqueries, for an `UPDATE … RETURNING` on the accounts table.
    private static let ownerColumns = userColumnNames.map { "(SELECT \($0) FROM sesame_users WHERE sesame_users.id = sesame_accounts.user_id) AS u_\($0)" }
        .joined(separator: ", ")

    /// An account and its user (`u_…` columns; `nil` when the join found none).
    private static func decodeAccountAndUser(_ row: SQLiteDirectConnection.Row) throws -> (account: AuthAccount, user: AuthUser?) {
        let account = try decodeAccount(row)
        guard row.column("u_created_at")?.integer != nil else { return (account, nil) }
        return (account, try decodeUser(row, prefix: "u_"))
    }

    public func linkAccount(_ account: AuthAccount) async throws -> Bool {
        try await transaction { database in
            guard try !database.rows("SELECT 1 FROM sesame_users WHERE id = ?1", [.text(account.userID)]).isEmpty else { return false }
            try database.rows(Self.insertAccount, Self.accountBinds(account))
            return true
        }
    }

    public func unlinkAccount(_ key: AccountKey, userID: String) async throws -> UnlinkOutcome {
        try await transaction { database in
            let binds = Self.keyBinds(key) + [.text(userID)]
            guard try !database.rows("SELECT 1 FROM sesame_accounts WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3 AND user_id = ?4", binds).isEmpty else {
                return .notFound
            }
            let methods = try database.rows(
                "SELECT (SELECT count(*) FROM sesame_accounts WHERE user_id = ?1) + (SELECT count(*) FROM sesame_authenticators WHERE user_id = ?1 AND flagged_at IS NULL) AS n",
                [.text(userID)]
            ).first?.column("n")?.integer ?? 0
            guard methods > 1 else { return .lastSignInMethod }
            try database.rows("DELETE FROM sesame_accounts WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3 AND user_id = ?4", binds)
            return .unlinked
        }
    }

    public func replaceTokens(_ key: AccountKey, expected: [UInt8]?, with tokens: [UInt8]?, needsReauthentication: Bool) async throws -> Bool {
        try await !rows(
            """
            UPDATE sesame_accounts SET tokens = ?5, needs_reauthentication = ?6, refresh_lease_until = NULL
            WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3 AND tokens IS ?4 RETURNING 1
            """,
            Self.keyBinds(key) + [Self.blob(expected), Self.blob(tokens), .integer(needsReauthentication ? 1 : 0)]
        ).isEmpty
    }

    public func replacePasswordHash(_ key: AccountKey, expected: String?, with hash: String) async throws -> Bool {
        try await !rows(
            """
            UPDATE sesame_accounts SET password_hash = ?5
            WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3 AND password_hash IS ?4 RETURNING 1
            """, Self.keyBinds(key) + [Self.text(expected), .text(hash)]
        ).isEmpty
    }

    public func claimTokenRefresh(_ key: AccountKey, until: Date, now: Date) async throws -> AuthAccount? {
        try await rows(
            """
            UPDATE sesame_accounts SET refresh_lease_until = ?4
            WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3 AND (refresh_lease_until IS NULL OR refresh_lease_until <= ?5)
            RETURNING \(Self.accountColumns)
            """,
            Self.keyBinds(key) + [.integer(Int(until.millisecondsSince1970)), .integer(Int(now.millisecondsSince1970))]
        ).first.map(Self.decodeAccount)
    }

    public func releaseTokenRefresh(_ key: AccountKey) async throws {
        _ = try await rows(
            "UPDATE sesame_accounts SET refresh_lease_until = NULL WHERE provider = ?1 AND issuer = ?2 AND provider_account_id = ?3", Self.keyBinds(key))
    }

    private static func keyBinds(_ key: AccountKey) -> [SQLiteData] {
        [.text(key.provider), .text(key.issuer), .text(key.providerAccountID)]
    }

    private static func accountBinds(_ account: AuthAccount) -> [SQLiteData] {
        keyBinds(account.key) + [.text(account.userID), .text(account.type.rawValue), blob(account.sealedTokens),
                                 .integer(account.needsReauthentication ? 1 : 0), .integer(Int(account.createdAt.millisecondsSince1970)),
                                 text(account.passwordHash)]
    }

    private static func decodeAccount(_ row: SQLiteDirectConnection.Row) throws -> AuthAccount {
        guard let provider = row.column("provider")?.string, let issuer = row.column("issuer")?.string,
            let id = row.column("provider_account_id")?.string, let userID = row.column("user_id")?.string,
            let type = row.column("type")?.string.flatMap(AccountType.init(rawValue:)), let created = row.column("created_at")?.integer
        else { throw SessionStoreError.invalidResponse("SQLite: an account row is incomplete") }
        return AuthAccount(
            key: AccountKey(provider: provider, issuer: issuer, providerAccountID: id), userID: userID, type: type,
            sealedTokens: bytes(row.column("tokens")), needsReauthentication: row.column("needs_reauthentication")?.integer == 1,
            passwordHash: row.column("password_hash")?.string, createdAt: Date(millisecondsSince1970: Int64(created)))
    }

    // MARK: Verification tokens

    public func createVerificationToken(_ token: VerificationToken) async throws {
        _ = try await rows(
            "INSERT INTO sesame_verification_tokens (identifier, token_hash, purpose, expires_at) VALUES (?1, ?2, ?3, ?4)",
            [.text(token.identifier), Self.blob(token.tokenHash), .text(token.purpose), .integer(Int(token.expiresAt.millisecondsSince1970))])
    }

    public func useVerificationToken(identifier: String, tokenHash: [UInt8], purpose: String, now: Date) async throws -> VerificationToken? {
        // One statement: of two callers, one deletes the row.
        let used = try await rows(
            "DELETE FROM sesame_verification_tokens WHERE identifier = ?1 AND token_hash = ?2 AND purpose = ?3 RETURNING expires_at",
            [.text(identifier), Self.blob(tokenHash), .text(purpose)])
        guard let expires = used.first?.column("expires_at")?.integer, Int64(expires) > now.millisecondsSince1970 else { return nil }
        return VerificationToken(identifier: identifier, tokenHash: tokenHash, expiresAt: Date(millisecondsSince1970: Int64(expires)), purpose: purpose)
    }

    public func deleteVerificationTokens(identifier: String) async throws {
        _ = try await rows("DELETE FROM sesame_verification_tokens WHERE identifier = ?1", [.text(identifier)])
    }

    // MARK: Passkeys

    private static let authenticatorColumns =
        "credential_id, user_id, public_key, counter, backed_up, device_type, transports, name, created_at, last_used_at, flagged_at"

    public func createAuthenticator(_ authenticator: PasskeyAuthenticator) async throws -> Bool {
        try await transaction { database in
            guard try !database.rows("SELECT 1 FROM sesame_users WHERE id = ?1", [.text(authenticator.userID)]).isEmpty else { return false }
            try Self.insertAuthenticator(authenticator, into: database)
            return true
        }
    }

    public func createUser(_ user: AuthUser, authenticator: PasskeyAuthenticator) async throws {
        try await transaction { database in
            try database.rows("INSERT INTO sesame_users (\(Self.userColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", Self.userBinds(user))
            try Self.insertAuthenticator(authenticator, into: database)
        }
    }

    private static func insertAuthenticator(_ authenticator: PasskeyAuthenticator, into database: SQLiteDirectConnection) throws {
        try database.rows(
            "INSERT INTO sesame_authenticators (\(Self.authenticatorColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            [blob(authenticator.credentialID), .text(authenticator.userID), blob(authenticator.publicKey), .integer(Int(authenticator.counter)),
             .integer(authenticator.backedUp ? 1 : 0), .text(authenticator.deviceType), .text(authenticator.transports.joined(separator: ",")),
             text(authenticator.name), .integer(Int(authenticator.createdAt.millisecondsSince1970)), time(authenticator.lastUsedAt),
             time(authenticator.flaggedAt)])
    }

    public func authenticator(credentialID: [UInt8]) async throws -> PasskeyAuthenticator? {
        try await rows("SELECT \(Self.authenticatorColumns) FROM sesame_authenticators WHERE credential_id = ?1", [Self.blob(credentialID)])
            .first.map(Self.decodeAuthenticator)
    }

    public func authenticators(userID: String) async throws -> [PasskeyAuthenticator] {
        try await rows("SELECT \(Self.authenticatorColumns) FROM sesame_authenticators WHERE user_id = ?1 ORDER BY created_at, credential_id", [.text(userID)])
            .map(Self.decodeAuthenticator)
    }

    public func recordAuthenticatorUse(credentialID: [UInt8], expectedCounter: UInt32, counter: UInt32, backedUp: Bool, at date: Date) async throws -> Bool {
        // One statement: of racing sign-ins that read the same counter, the first to write changes it and the
        // others' condition fails.
        try await !rows(
            """
            UPDATE sesame_authenticators SET counter = ?3, backed_up = ?4, last_used_at = ?5
            WHERE credential_id = ?1 AND counter = ?2 AND flagged_at IS NULL RETURNING 1
            """,
            [Self.blob(credentialID), .integer(Int(expectedCounter)), .integer(Int(counter)), .integer(backedUp ? 1 : 0), Self.time(date)]
        ).isEmpty
    }

    public func flagAuthenticator(credentialID: [UInt8], at date: Date) async throws -> Bool {
        try await !rows(
            "UPDATE sesame_authenticators SET flagged_at = coalesce(flagged_at, ?2) WHERE credential_id = ?1 RETURNING 1",
            [Self.blob(credentialID), Self.time(date)]
        ).isEmpty
    }

    public func renameAuthenticator(credentialID: [UInt8], userID: String, name: String?) async throws -> Bool {
        try await !rows(
            "UPDATE sesame_authenticators SET name = ?3 WHERE credential_id = ?1 AND user_id = ?2 RETURNING 1",
            [Self.blob(credentialID), .text(userID), Self.text(name)]
        ).isEmpty
    }

    public func deleteAuthenticator(credentialID: [UInt8], userID: String) async throws -> UnlinkOutcome {
        // One write transaction (`BEGIN IMMEDIATE`): no other writer comes between the count and the deletion.
        try await transaction { database in
            let binds: [SQLiteData] = [Self.blob(credentialID), .text(userID)]
            // A flagged passkey signs nobody in: removing it never removes a way in, and it is not counted as one.
            guard let target = try database.rows("SELECT flagged_at FROM sesame_authenticators WHERE credential_id = ?1 AND user_id = ?2", binds).first else {
                return .notFound
            }
            if target.column("flagged_at")?.integer != nil {
                try database.rows("DELETE FROM sesame_authenticators WHERE credential_id = ?1 AND user_id = ?2", binds)
                return .unlinked
            }
            let methods = try database.rows(
                "SELECT (SELECT count(*) FROM sesame_accounts WHERE user_id = ?1) + (SELECT count(*) FROM sesame_authenticators WHERE user_id = ?1 AND flagged_at IS NULL) AS n",
                [.text(userID)]
            ).first?.column("n")?.integer ?? 0
            guard methods > 1 else { return .lastSignInMethod }
            try database.rows("DELETE FROM sesame_authenticators WHERE credential_id = ?1 AND user_id = ?2", binds)
            return .unlinked
        }
    }

    private static func decodeAuthenticator(_ row: SQLiteDirectConnection.Row) throws -> PasskeyAuthenticator {
        guard let credentialID = bytes(row.column("credential_id")), let userID = row.column("user_id")?.string,
            let publicKey = bytes(row.column("public_key")), let counter = row.column("counter")?.integer, let counterValue = UInt32(exactly: counter),
            let deviceType = row.column("device_type")?.string, let transports = row.column("transports")?.string,
            let created = row.column("created_at")?.integer
        else { throw SessionStoreError.invalidResponse("SQLite: a passkey row is incomplete") }
        return PasskeyAuthenticator(
            credentialID: credentialID, userID: userID, publicKey: publicKey, counter: counterValue,
            backedUp: row.column("backed_up")?.integer == 1, deviceType: deviceType,
            transports: transports.split(separator: ",").map(String.init), name: row.column("name")?.string,
            createdAt: Date(millisecondsSince1970: Int64(created)), lastUsedAt: date(row.column("last_used_at")), flaggedAt: date(row.column("flagged_at")))
    }

    // MARK: Second factor

    public func totpEnrolment(userID: String) async throws -> TOTPEnrolment? {
        guard let row = try await rows("SELECT secret, last_step, created_at FROM sesame_totp WHERE user_id = ?1", [.text(userID)]).first else { return nil }
        guard let secret = Self.bytes(row.column("secret")), let created = row.column("created_at")?.integer else {
            throw SessionStoreError.invalidResponse("SQLite: an enrolment row is incomplete")
        }
        return TOTPEnrolment(
            userID: userID, sealedSecret: secret, lastUsedStep: row.column("last_step")?.integer.map(Int64.init),
            createdAt: Date(millisecondsSince1970: Int64(created)))
    }

    public func saveTOTPEnrolment(_ enrolment: TOTPEnrolment, recoveryCodeHashes: [[UInt8]]) async throws -> Bool {
        try await transaction { database in
            guard try !database.rows("SELECT 1 FROM sesame_users WHERE id = ?1", [.text(enrolment.userID)]).isEmpty else { return false }
            try database.rows(
                "INSERT OR REPLACE INTO sesame_totp (user_id, secret, last_step, created_at) VALUES (?1, ?2, ?3, ?4)",
                [.text(enrolment.userID), Self.blob(enrolment.sealedSecret), enrolment.lastUsedStep.map { .integer(Int($0)) } ?? .null,
                 .integer(Int(enrolment.createdAt.millisecondsSince1970))])
            try Self.writeRecoveryCodes(database, userID: enrolment.userID, hashes: recoveryCodeHashes)
            return true
        }
    }

    public func deleteTOTPEnrolment(userID: String) async throws -> Bool {
        try await transaction { database in
            try database.rows("DELETE FROM sesame_recovery_codes WHERE user_id = ?1", [.text(userID)])
            return try !database.rows("DELETE FROM sesame_totp WHERE user_id = ?1 RETURNING 1", [.text(userID)]).isEmpty
        }
    }

    public func useTOTPStep(userID: String, step: Int64) async throws -> Bool {
        try await !rows(
            "UPDATE sesame_totp SET last_step = ?2 WHERE user_id = ?1 AND (last_step IS NULL OR last_step < ?2) RETURNING 1",
            [.text(userID), .integer(Int(step))]
        ).isEmpty
    }

    public func useRecoveryCode(userID: String, codeHash: [UInt8]) async throws -> Bool {
        try await !rows("DELETE FROM sesame_recovery_codes WHERE user_id = ?1 AND code_hash = ?2 RETURNING 1", [.text(userID), Self.blob(codeHash)]).isEmpty
    }

    public func replaceRecoveryCodes(userID: String, hashes: [[UInt8]]) async throws -> Bool {
        try await transaction { database in
            guard try !database.rows("SELECT 1 FROM sesame_totp WHERE user_id = ?1", [.text(userID)]).isEmpty else { return false }
            try Self.writeRecoveryCodes(database, userID: userID, hashes: hashes)
            return true
        }
    }

    private static func writeRecoveryCodes(_ database: SQLiteDirectConnection, userID: String, hashes: [[UInt8]]) throws {
        try database.rows("DELETE FROM sesame_recovery_codes WHERE user_id = ?1", [.text(userID)])
        for hash in Set(hashes) {
            try database.rows("INSERT INTO sesame_recovery_codes (user_id, code_hash) VALUES (?1, ?2)", [.text(userID), blob(hash)])
        }
    }

    public func recoveryCodeCount(userID: String) async throws -> Int {
        try await rows("SELECT count(*) AS n FROM sesame_recovery_codes WHERE user_id = ?1", [.text(userID)]).first?.column("n")?.integer ?? 0
    }

    // MARK: Values

    private static func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    private static func blob(_ value: [UInt8]?) -> SQLiteData { value.map { .blob(ByteBuffer(bytes: $0)) } ?? .null }
    /// A time as integer milliseconds since 1970, as every timestamp column keeps it.
    private static func time(_ value: Date?) -> SQLiteData { value.map { .integer(Int($0.millisecondsSince1970)) } ?? .null }
    private static func date(_ data: SQLiteData?) -> Date? { data?.integer.map { Date(millisecondsSince1970: Int64($0)) } }
    private static func bytes(_ data: SQLiteData?) -> [UInt8]? {
        guard case .blob(let buffer)? = data else { return nil }
        return Array(buffer.readableBytesView)
    }

    /// Closes the connection; the next operation opens it again.
    public func close() async throws {
        await lock.acquire()
        defer { lock.release() }
        database.withLock { $0 = nil }
    }
}

/// A lock for async code: one holder at a time, the others wait in order without blocking a thread.
final class SQLiteSerialLock: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func acquire() async {
        // Uncontended: taken at once, with no suspension.
        let taken = state.withLock { state -> Bool in
            guard !state.held else { return false }
            state.held = true
            return true
        }
        if taken { return }
        await withCheckedContinuation { continuation in
            let acquired = state.withLock { state -> Bool in
                if state.held {
                    state.waiters.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
