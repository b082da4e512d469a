import Foundation
import PostgresNIO
import Sesame
@testable import SesamePostgres
@testable import SesameSQLite
import Testing

/// Upgrades from the schema before passkeys kept their sign-in times (SQLite v5, PostgreSQL v4): the rows written
/// then are kept, with no sign-in time and no flag, and work afterwards.
@Suite(.timeLimit(.minutes(2))) struct AccountStoreUpgradeTests {
    /// The passkey a v5/v4 database holds, as the upgraded store should read it.
    static func oldPasskey(userID: String) -> PasskeyAuthenticator {
        PasskeyAuthenticator(
            credentialID: [0xC0, 0xFF, 0xEE], userID: userID, publicKey: [0xA5, 1, 2], counter: 7, backedUp: true, deviceType: "multiDevice",
            transports: ["internal", "hybrid"], name: "Laptop", createdAt: Date(millisecondsSince1970: 1_700_000_000_123))
    }

    @Test func sqliteUpgradesFromV5KeepingPasskeys() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-upgrade-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("accounts.sqlite").path
        do {
            let old = try SQLiteDirectConnection(path: path, busyTimeoutMilliseconds: 1000)
            #expect(try SQLiteAccountStore.migrate(old, through: 5) == [1, 2, 3, 4, 5])
            try old.rows("INSERT INTO sesame_users (id, created_at, updated_at) VALUES ('u1', 1700000000000, 1700000000000)")
            try old.rows(
                """
                INSERT INTO sesame_authenticators (credential_id, user_id, public_key, counter, backed_up, device_type, transports, name, created_at)
                VALUES (X'C0FFEE', 'u1', X'A50102', 7, 1, 'multiDevice', 'internal,hybrid', 'Laptop', 1700000000123)
                """)
        }
        let store = SQLiteAccountStore(path: path)
        // Opening the file migrates it, so `migrate()` finds it done.
        #expect(try await store.migrate().isEmpty)
        #expect(try await store.schemaVersion() == 6)
        let passkey = Self.oldPasskey(userID: "u1")
        #expect(try await store.authenticator(credentialID: passkey.credentialID) == passkey)
        let now = Date(millisecondsSince1970: 1_800_000_000_000)
        #expect(try await store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 7, counter: 8, backedUp: true, at: now))
        #expect(try await store.authenticator(credentialID: passkey.credentialID)?.lastUsedAt == now)
        try await store.close()
    }

    @Test func postgresUpgradesFromV4KeepingPasskeys() async throws {
        let url = try StoreFixture.environmentURL("SESAME_TEST_POSTGRES_URL")
        let schema = "sesame_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let namespace = try PostgresTableNamespace(schema: schema)
        let client = PostgresClient(configuration: try PostgresStoreClient.configuration(url: url))
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        let store = PostgresAccountStore(client: client, namespace: namespace, operationTimeout: .seconds(30))
        do {
            #expect(try await store.migrate(through: 4) == [1, 2, 3, 4])
            #expect(try await store.schemaVersion() == 4)
            try await client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(namespace.table("users")) (id, created_at, updated_at) VALUES ('u1', 1700000000000, 1700000000000)"))
            try await client.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(namespace.table("authenticators")) (credential_id, user_id, public_key, counter, backed_up, device_type, transports, name, created_at)
                VALUES ('\\xC0FFEE'::bytea, 'u1', '\\xA50102'::bytea, 7, true, 'multiDevice', 'internal,hybrid', 'Laptop', 1700000000123)
                """))
            #expect(try await store.migrate() == [5])
            #expect(try await store.schemaVersion() == 5)
            let passkey = Self.oldPasskey(userID: "u1")
            #expect(try await store.authenticator(credentialID: passkey.credentialID) == passkey)
            let now = Date(millisecondsSince1970: 1_800_000_000_000)
            #expect(try await store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 7, counter: 8, backedUp: true, at: now))
            #expect(try await store.authenticator(credentialID: passkey.credentialID)?.lastUsedAt == now)
        } catch {
            _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
            throw error
        }
        try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
    }
}
