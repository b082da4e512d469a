import Foundation
import PostgresNIO
import Sesame
import SesamePostgres
import Testing

extension StoreFixture {
    /// The PostgreSQL stores against the server at `SESAME_TEST_POSTGRES_URL`, in a schema of their own that
    /// `close` drops again, so fixtures never see each other's rows.
    static func postgres() async throws -> StoreFixture {
        let url = try environmentURL("SESAME_TEST_POSTGRES_URL")
        let client = PostgresClient(configuration: try PostgresStoreClient.configuration(url: url))
        let runner = Task { await client.run() }
        let schema = "sesame_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let namespace = try PostgresTableNamespace(schema: schema, prefix: "")
        // The suite's cases start at once, and their migrations queue on one server-wide advisory lock while the
        // other suites load the machine: the 5 s production deadline is not what this suite tests (PostgresTests
        // does, with a deadline of its own), so its stores wait longer.
        let timeout = Duration.seconds(60)
        let sessions = PostgresSessionStore(client: client, namespace: namespace, operationTimeout: timeout)
        let replay = PostgresReplayStore(client: client, namespace: namespace, operationTimeout: timeout)
        let revocation = PostgresRevocationStore(client: client, namespace: namespace, operationTimeout: timeout)
        let close: @Sendable () async throws -> Void = {
            defer { runner.cancel() }
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
            runner.cancel()
            await runner.value
        }
        do {
            try await sessions.migrate()
            try await replay.migrate()
            try await revocation.migrate()
            try await PostgresRateLimiter(client: client, capacity: 1, refillInterval: 1, namespace: namespace, operationTimeout: timeout).migrate()
        } catch {
            try? await close()
            throw error
        }
        return StoreFixture(
            sessions: sessions, replay: replay,
            limiter: { capacity, interval in
                PostgresRateLimiter(
                    client: client, name: UUID().uuidString, capacity: capacity, refillInterval: interval,
                    namespace: namespace, operationTimeout: timeout)
            },
            revocation: revocation, close: close)
    }
}
