import Foundation
import PostgresNIO
import Sesame
import SesamePostgres
import SesameSQLite
import Testing

/// One account store, migrated and empty, for the behavioural suite.
enum AccountStoreFixture {
    /// Runs `body` with a fresh store of `kind` and removes its data afterwards, even when `body` throws.
    static func with(_ kind: AccountStoreKind, _ body: (any AccountStore) async throws -> Void) async throws {
        switch kind {
        case .memory:
            try await body(MemoryAccountStore())
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-accounts-" + UUID().uuidString)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = SQLiteAccountStore(path: directory.appendingPathComponent("accounts.sqlite").path)
            defer { try? FileManager.default.removeItem(at: directory) }
            do {
                try await body(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        case .postgres:
            let url = try StoreFixture.environmentURL("SESAME_TEST_POSTGRES_URL")
            let client = PostgresClient(configuration: try PostgresStoreClient.configuration(url: url))
            let runner = Task { await client.run() }
            let schema = "sesame_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let store = PostgresAccountStore(client: client, namespace: try PostgresTableNamespace(schema: schema), operationTimeout: .seconds(60))
            defer { runner.cancel() }
            do {
                try await store.migrate()
                try await body(store)
            } catch {
                _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
                throw error
            }
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        }
    }
}
