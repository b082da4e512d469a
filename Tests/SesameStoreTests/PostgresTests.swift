import Foundation
import PostgresNIO
import Sesame
import SesamePostgres
import SesameTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PostgreSQL stores against servers of their own (started and stopped with `scripts/services/postgres`):
/// migrations, an unreachable server, restarts and the cleanup of expired rows.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PostgresTests {
    /// The first `migrate()` creates the schema, tables and indexes; later (and concurrent) ones change nothing.
    @Test func migrationCreatesTheSchemaAndIsIdempotent() async throws {
        try await PostgresTestServer.with { server in
            try await server.withClient { client in
                let namespace = try PostgresTableNamespace(schema: "sesame_auth", prefix: "app_")
                let sessions = PostgresSessionStore(client: client, namespace: namespace)
                #expect(try await Self.count(client, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sesame_auth'") == 0)
                // Before the migration the table is missing: a server-side error, not an unavailable server.
                let missingTable = await Self.storeError { _ = try await sessions.get(StoreBehaviourTests.key()) }
                #expect(missingTable?.isInvalidResponse == true)

                let stores = Self.stores(client, namespace)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for migrate in stores.migrations + stores.migrations { group.addTask { try await migrate() } }
                    try await group.waitForAll()
                }
                for migrate in stores.migrations { try await migrate() }

                #expect(try await Self.count(client, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sesame_auth'") == 1)
                let tables = try await Self.strings(client, """
                    SELECT table_name FROM information_schema.tables WHERE table_schema = 'sesame_auth'
                    """)
                #expect(Set(tables) == [
                    "app_sessions", "app_replay", "app_rate_limits", "app_revoked_tokens", "app_subject_cutoffs",
                ])
                let indexes = try await Self.strings(client, """
                    SELECT indexdef FROM pg_indexes WHERE schemaname = 'sesame_auth' AND tablename = 'app_sessions'
                    """)
                #expect(indexes.contains { $0.hasSuffix("(grp)") })
                #expect(indexes.contains { $0.hasSuffix("(expires_at)") })
                let types = try await Self.strings(client, """
                    SELECT column_name || ' ' || data_type FROM information_schema.columns
                    WHERE table_schema = 'sesame_auth' AND table_name = 'app_sessions'
                    """)
                #expect(Set(types).isSuperset(of: ["value bytea", "expires_at timestamp with time zone"]))

                let record = StoreBehaviourTests.record(group: "user:ada")
                try await sessions.create(record)
                for migrate in stores.migrations { try await migrate() }
                #expect(try await sessions.get(record.key)?.value == record.value)
            }
        }
    }

    /// A row the store cannot decode is an invalid response, not a crash or a missing session.
    @Test func malformedRowsAreInvalidResponses() async throws {
        try await PostgresTestServer.with { server in
            try await server.withClient { client in
                let sessions = PostgresSessionStore(client: client)
                try await sessions.migrate()
                try await client.query("ALTER TABLE sesame_sessions ALTER COLUMN value DROP NOT NULL")
                let key = StoreBehaviourTests.key()
                try await client.query("""
                    INSERT INTO sesame_sessions (key, grp, value, expires_at)
                    VALUES (\(key), 'user:ada', NULL, now() + interval '1 hour')
                    """)
                #expect(await Self.storeError { _ = try await sessions.get(key) }?.isInvalidResponse == true)
                #expect(await Self.storeError { _ = try await sessions.listGroup("user:ada") }?.isInvalidResponse == true)
            }
        }
    }

    /// With the server down every operation throws `unavailable` (instead of waiting for the pool), and once
    /// the server is back the very same stores work again without any help.
    /// (The one-minute limit only catches a hang: the pool by itself would hold the requests for a minute.)
    @Test(.timeLimit(.minutes(1)))
    func unavailableWhileTheServerIsDownThenRecovers() async throws {
        try await PostgresTestServer.with { server in
            try await server.withClient { client in
                let namespace = PostgresTableNamespace.default
                let timeout = Duration.seconds(2)
                let sessions = PostgresSessionStore(client: client, namespace: namespace, operationTimeout: timeout)
                let replay = PostgresReplayStore(client: client, namespace: namespace, operationTimeout: timeout)
                let limiter = PostgresRateLimiter(
                    client: client, capacity: 5, refillInterval: 60, namespace: namespace, operationTimeout: timeout)
                let revocation = PostgresRevocationStore(client: client, namespace: namespace, operationTimeout: timeout)
                for migrate in [sessions.migrate, replay.migrate, limiter.migrate, revocation.migrate] { try await migrate() }
                let record = StoreBehaviourTests.record(group: "user:ada")
                try await sessions.create(record)

                try await server.stop()
                let operations: [(String, @Sendable () async throws -> Void)] = [
                    ("get", { _ = try await sessions.get(record.key) }),
                    ("create", { try await sessions.create(StoreBehaviourTests.record()) }),
                    ("update", { _ = try await sessions.update(record) }),
                    ("deleteGroup", { _ = try await sessions.deleteGroup("user:ada") }),
                    ("listGroup", { _ = try await sessions.listGroup("user:ada") }),
                    ("replay", { _ = try await replay.consume(UUID().uuidString, expiresAt: Date().addingTimeInterval(60)) }),
                    ("rate limit", { _ = try await limiter.consume("ip:127.0.0.1") }),
                    ("revocation", { _ = try await revocation.isRevoked(tokenID: "t", subject: "s", issuedAt: Date()) }),
                    ("cleanup", { _ = try await sessions.deleteExpired() }),
                ]
                // All at once: each must give up by itself (the pool alone would queue them for a minute).
                let outcomes = await withTaskGroup(of: (String, SessionStoreError?).self) { group in
                    for (name, operation) in operations { group.addTask { (name, await Self.storeError(operation)) } }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                #expect(outcomes.count == operations.count)
                for (name, error) in outcomes {
                    #expect(error?.isUnavailable == true, "\(name) with the server down: \(String(describing: error))")
                }

                try await server.start()
                let stored = try await Self.eventually { try await sessions.get(record.key) }
                #expect(stored?.value == record.value)
                #expect(try await replay.consume(UUID().uuidString, expiresAt: Date().addingTimeInterval(60)))
                #expect(try await limiter.consume("ip:127.0.0.1") == nil)
                #expect(try await sessions.deleteGroup("user:ada") == 1)
            }
        }
    }

    /// Sign-ins of new identities while the server stops mid-run: each either completes (user and account) or
    /// answers 503 (`temporarily_unavailable`), never half a user; once the server is back every sign-in works.
    @Test func signInsDuringAStopNeverLeaveHalfAUser() async throws {
        try await PostgresTestServer.with { server in
            try await server.withClient { client in
                let store = PostgresAccountStore(client: client, operationTimeout: .seconds(2))
                try await store.migrate()
                let accounts = Accounts(store: store, keys: try KeySet(activeKey: JWK.generate(.es256)))
                func signIn(_ n: Int) async -> AuthError? {
                    let identity = ProviderIdentity(claims: [:], tokens: TokenSet(accessToken: "t\(n)"),
                                                    profile: Profile(id: "id-\(n)", email: "u\(n)@example.com", emailVerified: true))
                    do {
                        _ = try await accounts.signIn(provider: "github", type: .oauth, identity: identity)
                        return nil
                    } catch let error as AuthError {
                        return error
                    } catch {
                        Issue.record("not an AuthError: \(error)")
                        return nil
                    }
                }
                // 20 sign-ins in flight while the server stops (whichever side of the stop each lands on), then 20 more
                // against the stopped server.
                let during = await withTaskGroup(of: AuthError?.self) { group in
                    for n in 0..<20 {
                        group.addTask {
                            try? await Task.sleep(for: .milliseconds(n * 10))
                            return await signIn(n)
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(30))
                        try? await server.stop()
                        return nil
                    }
                    return await group.reduce(into: [AuthError?]()) { $0.append($1) }
                }
                let after = await withTaskGroup(of: AuthError?.self) { group in
                    for n in 20..<40 { group.addTask { await signIn(n) } }
                    return await group.reduce(into: [AuthError?]()) { $0.append($1) }
                }
                let refused = (during + after).compactMap { $0 }
                #expect(refused.allSatisfy { $0 == .unavailable && $0.status == .serviceUnavailable }, "\(refused)")
                #expect(after.allSatisfy { $0 == .unavailable }, "with the server down every sign-in is a 503")

                try await server.start()
                let orphans = try await Self.eventually {
                    try await Self.count(client, "SELECT count(*) FROM sesame_users u WHERE NOT EXISTS (SELECT 1 FROM sesame_accounts a WHERE a.user_id = u.id)")
                }
                #expect(orphans == 0, "no user without its account")
                // Every identity signs in now, the completed ones to the user they made.
                for n in 0..<40 { #expect(await signIn(n) == nil) }
                #expect(try await Self.count(client, "SELECT count(*) FROM sesame_users") == 40)
                #expect(try await Self.count(client, "SELECT count(*) FROM sesame_accounts") == 40)
            }
        }
    }

    /// What was committed before a restart of the server is there after it.
    @Test func committedSessionsSurviveARestart() async throws {
        try await PostgresTestServer.with { server in
            let record = StoreBehaviourTests.record(group: "user:ada", value: "survivor")
            let jti = UUID().uuidString
            try await server.withClient { client in
                let sessions = PostgresSessionStore(client: client)
                let revocation = PostgresRevocationStore(client: client)
                try await sessions.migrate()
                try await revocation.migrate()
                try await sessions.create(record)
                try await revocation.revoke(tokenID: jti, expiresAt: Date().addingTimeInterval(600))
                try await server.stop()
                try await server.start()
                // The same pool reconnects by itself.
                let stored = try await Self.eventually { try await sessions.get(record.key) }
                #expect(stored?.value == record.value && stored?.group == record.group)
                #expect(abs((stored?.expiresAt ?? .distantPast).timeIntervalSince(record.expiresAt)) < 0.001)
            }
            // And a new client after another restart finds it too.
            try await server.stop()
            try await server.start()
            try await server.withClient { client async throws in
                let sessions = PostgresSessionStore(client: client)
                let revocation = PostgresRevocationStore(client: client)
                #expect(try await sessions.get(record.key)?.value == record.value)
                #expect(try await sessions.listGroup("user:ada").map(\.key) == [record.key])
                #expect(try await revocation.isRevoked(tokenID: jti, subject: "user:ada", issuedAt: Date()))
            }
        }
    }

    /// `deleteExpired()` and the cleanup service remove expired rows of every store, and only those.
    @Test func cleanupRemovesExpiredRows() async throws {
        try await PostgresTestServer.with { server in
            try await server.withClient { client in
                let namespace = try PostgresTableNamespace(schema: "cleanup", prefix: "")
                let stores = Self.stores(client, namespace)
                for migrate in stores.migrations { try await migrate() }
                let sessions = stores.sessions

                // Sessions: five expired, one alive; deleted in batches of two.
                let live = StoreBehaviourTests.record(group: "user:ada")
                try await sessions.create(live)
                for _ in 0..<5 { try await sessions.create(StoreBehaviourTests.record(group: "user:ada", lifetime: -5)) }
                #expect(try await Self.count(client, "SELECT count(*) FROM cleanup.sessions") == 6)
                #expect(try await sessions.deleteExpired(batchSize: 2) == 5)
                #expect(try await Self.count(client, "SELECT count(*) FROM cleanup.sessions") == 1)
                #expect(try await sessions.deleteExpired() == 0)

                // Every store at once, by the periodic service.
                for _ in 0..<3 { try await sessions.create(StoreBehaviourTests.record(lifetime: -5)) }
                let past = Date().addingTimeInterval(-5), future = Date().addingTimeInterval(600)
                #expect(try await stores.replay.consume("expired", expiresAt: past))
                #expect(try await stores.replay.consume("alive", expiresAt: future))
                try await stores.revocation.revoke(tokenID: "expired", expiresAt: past)
                try await stores.revocation.revoke(tokenID: "alive", expiresAt: future)
                // A bucket that refills in a millisecond is full again (and forgettable) almost at once.
                #expect(try await stores.fastLimiter.consume("ip:127.0.0.1") == nil)
                #expect(try await stores.slowLimiter.consume("ip:127.0.0.1") == nil)
                try await Task.sleep(for: .milliseconds(50))
                let expiredRows = """
                    SELECT (SELECT count(*) FROM cleanup.sessions WHERE expires_at <= now())
                        + (SELECT count(*) FROM cleanup.replay WHERE expires_at <= now())
                        + (SELECT count(*) FROM cleanup.revoked_tokens WHERE expires_at <= now())
                        + (SELECT count(*) FROM cleanup.rate_limits WHERE full_at <= now())
                    """
                #expect(try await Self.count(client, expiredRows) == 6)

                let cleanup = PostgresCleanupService(
                    stores: [stores.sessions, stores.replay, stores.revocation, stores.fastLimiter],
                    interval: .milliseconds(100))
                let running = Task { await cleanup.run() }
                defer { running.cancel() }
                let remaining = try await Self.eventually { () -> Int? in
                    let count = try await Self.count(client, expiredRows)
                    return count == 0 ? count : nil
                }
                running.cancel()
                await running.value
                #expect(remaining == 0)

                // The live rows are untouched.
                #expect(try await sessions.get(live.key) != nil)
                #expect(try await stores.replay.consume("alive", expiresAt: future) == false)
                #expect(try await stores.revocation.isRevoked(tokenID: "alive", subject: "s", issuedAt: Date()))
                #expect(try await Self.count(client, "SELECT count(*) FROM cleanup.rate_limits") == 1)
                // A forgotten bucket is a full one.
                #expect(try await stores.fastLimiter.consume("ip:127.0.0.1") == nil)
            }
        }
    }

    @Test func connectionURLsAreParsed() throws {
        let configuration = try PostgresStoreClient.configuration(url: "postgresql://ada:p%40ss@127.0.0.1:15432/app?sslmode=disable")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 15432)
        #expect(configuration.username == "ada")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == "app")
        #expect(try PostgresStoreClient.configuration(url: "postgres://ada@127.0.0.1").port == 5432)
        #expect(throws: PostgresStoreClient.InvalidURL.self) { try PostgresStoreClient.configuration(url: "redis://127.0.0.1") }
        #expect(throws: PostgresStoreClient.InvalidURL.self) { try PostgresStoreClient.configuration(url: "postgres://127.0.0.1/app") }
        #expect(throws: PostgresTableNamespace.InvalidName.self) { try PostgresTableNamespace(schema: "a\"; DROP", prefix: "") }
        #expect(throws: PostgresTableNamespace.InvalidName.self) { try PostgresTableNamespace(prefix: "Sesame") }
    }

    // MARK: - Helpers

    struct Stores {
        let sessions: PostgresSessionStore
        let replay: PostgresReplayStore
        let revocation: PostgresRevocationStore
        let fastLimiter: PostgresRateLimiter
        let slowLimiter: PostgresRateLimiter

        var migrations: [@Sendable () async throws -> Void] {
            [sessions.migrate, replay.migrate, revocation.migrate, fastLimiter.migrate]
        }
    }

    static func stores(_ client: PostgresClient, _ namespace: PostgresTableNamespace) -> Stores {
        Stores(
            sessions: PostgresSessionStore(client: client, namespace: namespace),
            replay: PostgresReplayStore(client: client, namespace: namespace),
            revocation: PostgresRevocationStore(client: client, namespace: namespace),
            fastLimiter: PostgresRateLimiter(client: client, name: "fast", capacity: 1, refillInterval: 0.001, namespace: namespace),
            slowLimiter: PostgresRateLimiter(client: client, name: "slow", capacity: 1, refillInterval: 3600, namespace: namespace))
    }

    /// The store error `body` throws, or `nil` (and a recorded issue for any other error) when it throws none.
    static func storeError(_ body: @Sendable () async throws -> Void) async -> SessionStoreError? {
        do {
            try await body()
            return nil
        } catch let error as SessionStoreError {
            return error
        } catch {
            Issue.record("expected a SessionStoreError, got \(error)")
            return nil
        }
    }

    static func count(_ client: PostgresClient, _ sql: String) async throws -> Int {
        var counts: [Int] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)) { counts.append(try row.decode(Int.self)) }
        return try #require(counts.first)
    }

    static func strings(_ client: PostgresClient, _ sql: String) async throws -> [String] {
        var values: [String] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)) { values.append(try row.decode(String.self)) }
        return values
    }

    /// Retries `body` until it returns a value (errors count as "not yet"), for up to a minute: a restarted
    /// server takes a moment, and the pool reconnects after a backoff.
    static func eventually<Value: Sendable>(_ body: () async throws -> Value?) async throws -> Value? {
        var lastError: (any Error)?
        for _ in 0..<120 {
            do {
                if let value = try await body() { return value }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("gave up waiting; last error: \(lastError.map { "\($0)" } ?? "none")")
        return nil
    }
}

extension SessionStoreError {
    var isUnavailable: Bool { if case .unavailable = self { true } else { false } }
    var isInvalidResponse: Bool { if case .invalidResponse = self { true } else { false } }
}

/// A PostgreSQL server of a test's own, in a temporary directory and on a free loopback port.
struct PostgresTestServer: Sendable {
    let directory: URL
    let port: Int
    let url: String

    /// Starts a server, runs `body`, then stops the server and deletes its directory.
    static func with(_ body: (PostgresTestServer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sesame-postgres-" + UUID().uuidString.prefix(8))
        let port = try await LivePorts.free()
        let url = try await run(["start", directory.path, String(port)])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = PostgresTestServer(directory: directory, port: port, url: url)
        do {
            try await body(server)
        } catch {
            try? await server.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        try await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// (Re)starts the server on its port.
    func start() async throws {
        _ = try await Self.run(["start", directory.path, String(port)])
    }

    /// Stops the server and waits until it is down.
    func stop() async throws {
        _ = try await Self.run(["stop", directory.path])
    }

    /// Runs `body` with a running client for this server that does not wait long for connections.
    func withClient(_ body: (PostgresClient) async throws -> Void) async throws {
        let configuration = try PostgresStoreClient.configuration(url: url, connectTimeout: .seconds(2))
        try await PostgresStoreClient.withRunningClient(configuration) { client in try await body(client) }
    }

    /// Runs `scripts/services/postgres` and returns its standard output.
    private static func run(_ arguments: [String]) async throws -> String {
        try await ServiceScript.run("postgres", arguments)
    }
}
