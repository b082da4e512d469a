import Foundation
import Logging
import PostgresNIO
import Sesame
import SesamePostgres
import SesameRedis
import SesameSQLite
import SesameConfiguration

/// What the demo keeps where all of its processes see it: one-time flows (OAuth state, used links, passkey
/// challenges), rate limits and revoked session tokens.
///
/// One process keeps them in memory. Several processes behind one address (no sticky sessions) keep them in Redis or
/// PostgreSQL, beside the sessions, native apps' refresh tokens and (with PostgreSQL) the users.
struct DemoSharedState: Sendable {
    /// Used one-time values.
    let replay: any ReplayStore
    /// Revoked stateless session tokens and subjects' "not before" moments.
    let revocations: any RevocationStore
    /// A rate limiter with its own key space, by name, burst size and seconds per token.
    let rateLimiter: @Sendable (_ name: String, _ capacity: Int, _ refillInterval: Double) -> any RateLimiter
    /// The sizes of what this process keeps in memory (empty gauges when it all lives in a server).
    var gauges = DemoMemoryGauges()
    /// Each user's recent security events, for the account page (in the backend's store, shared by instances).
    var trail = AuditTrail(store: MemorySessionStore())

    /// The demo's audit log: swift-log, and the trail.
    var audit: AuditLog { AuditLog([LoggingAuditSink(), trail]) }

    /// Everything in this process's memory.
    static func inProcess() -> DemoSharedState {
        let replay = MemoryReplayStore(), revocations = MemoryRevocationStore(), gauges = DemoMemoryGauges()
        gauges.register("replay: used IDs") { replay.entryCount }
        gauges.register("revocations: revoked tokens") { revocations.revokedTokenCount }
        gauges.register("revocations: subject cut-offs") { revocations.subjectCutoffCount }
        return DemoSharedState(replay: replay, revocations: revocations, rateLimiter: { name, capacity, interval in
            let limiter = MemoryRateLimiter(capacity: capacity, refillInterval: interval)
            gauges.register("rate limiter \(name): keys") { limiter.trackedKeyCount }
            return limiter
        }, gauges: gauges)
    }

    /// Everything in one Redis database, under the `sesame:` key prefix.
    static func redis(_ client: RedisClient) -> DemoSharedState {
        DemoSharedState(replay: RedisReplayStore(client: client), revocations: RedisRevocationStore(client: client)) { name, capacity, interval in
            RedisRateLimiter(client: client, capacity: capacity, refillInterval: interval, keyPrefix: "sesame:\(name):")
        }
    }

    /// Everything in one PostgreSQL database (the tables must exist: see ``DemoBackend/migrate()``).
    static func postgres(_ client: PostgresClient) -> DemoSharedState {
        DemoSharedState(replay: PostgresReplayStore(client: client), revocations: PostgresRevocationStore(client: client)) { name, capacity, interval in
            PostgresRateLimiter(client: client, name: name, capacity: capacity, refillInterval: interval)
        }
    }

    /// The link provider's limits and one-time links on this state.
    func linkConfiguration() -> LinkProvider.Configuration {
        LinkProvider.Configuration(
            perAddress: rateLimiter("link-address", 5, 120), perClient: rateLimiter("link-client", 20, 15), replay: replay)
    }

    /// The password accounts' limits on this state.
    func passwordConfiguration() -> PasswordAccounts.Configuration {
        var configuration = PasswordAccounts.Configuration()
        configuration.perAddress = rateLimiter("password-address", 5, 60)
        configuration.perClient = rateLimiter("password-client", 30, 2)
        return configuration
    }
}

/// The stores the demo's settings chose: where sessions, users and everything shared live.
struct DemoBackend: Sendable {
    /// Store-backed sessions' records, or `nil` for stateless session tokens.
    let sessionStore: (any SessionStore)?
    /// Native apps' refresh-token families (with stateless sessions).
    let nativeAppStore: any SessionStore
    /// Users, accounts, passwords, factors and passkeys.
    let accountStore: any AccountStore
    /// What several processes must share.
    let shared: DemoSharedState
    /// Creates the tables the stores need (PostgreSQL), or nothing.
    let migrate: @Sendable () async throws -> Void
    /// What the start-up message names.
    let summary: String
    /// The stores whose expired records the cleanup service deletes (Redis and memory expire their own).
    var expiring: [any ExpiringStore] = []

    /// Makes the stores the settings name (`sesame.session.store`, `sesame.sqlite.path`, `sesame.redis.url` and
    /// `sesame.postgres.url`, already checked by `SesameSettings`), and runs `body` with them (with a PostgreSQL client
    /// running while it runs).
    ///
    /// - Throws: ``DemoEnvironment/StartError`` naming the setting that is wrong; what `body` throws.
    static func withBackend(
        settings: SesameSettings, logger: Logger, _ body: (DemoBackend) async throws -> Void
    ) async throws {
        typealias StartError = DemoEnvironment.StartError
        let mode = switch settings.sessionStore {
        case .stateless: "stateless"
        case .memory: "memory"
        case .sqlite: "sqlite"
        case .redis: "redis"
        case .postgres: "postgres"
        }
        let redisURL = settings.redisURL
        let postgresURL = settings.postgresURL
        if (redisURL != nil && !["stateless", "redis"].contains(mode)) || (postgresURL != nil && !["stateless", "postgres"].contains(mode)) {
            throw StartError(description: "SESAME_SESSION_STORE=\(mode) keeps sessions in this process or its file; unset SESAME_REDIS_URL and SESAME_POSTGRES_URL, or use that store")
        }

        // Users and accounts live in SQLite, the embedded default (the file the SQLite session store uses too),
        // unless PostgreSQL holds everything.
        let databasePath = settings.sqlitePath
        func sqliteFile() throws -> String {
            let directory = (databasePath as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            return databasePath
        }

        if let redisURL {
            let configuration: RedisConfiguration
            do { configuration = try RedisConfiguration(url: redisURL) } catch {
                throw StartError(description: "SESAME_REDIS_URL is not a Redis URL: \(error)")
            }
            let client = RedisClient(configuration: configuration)
            let store = RedisSessionStore(client: client)
            var shared = DemoSharedState.redis(client)
            shared.trail = AuditTrail(store: store)
            let accounts = SQLiteAccountStore(path: try sqliteFile())
            // The SQLite file is closed on the way out (a clean stop), whether the server stopped or failed.
            try await closing(accounts.close) {
                try await body(DemoBackend(
                    sessionStore: mode == "redis" ? store : nil, nativeAppStore: store, accountStore: accounts, shared: shared, migrate: {},
                    summary: "\(mode) sessions, shared state in Redis, users in \(databasePath)"))
            }
            await client.shutdown()
            return
        }
        if let postgresURL {
            let configuration: PostgresClient.Configuration
            do { configuration = try PostgresStoreClient.configuration(url: postgresURL) } catch {
                throw StartError(description: "SESAME_POSTGRES_URL is not a PostgreSQL URL: \(error)")
            }
            try await PostgresStoreClient.withRunningClient(configuration, logger: logger) { client in
                let sessions = PostgresSessionStore(client: client)
                let accounts = PostgresAccountStore(client: client)
                let replay = PostgresReplayStore(client: client)
                let revocations = PostgresRevocationStore(client: client)
                var shared = DemoSharedState.postgres(client)
                shared.trail = AuditTrail(store: sessions)
                let migrate: @Sendable () async throws -> Void = {
                    try await sessions.migrate()
                    _ = try await accounts.migrate()
                    try await replay.migrate()
                    try await revocations.migrate()
                    try await PostgresRateLimiter.migrate(client: client)
                }
                try await body(DemoBackend(
                    sessionStore: mode == "postgres" ? sessions : nil, nativeAppStore: sessions, accountStore: accounts,
                    shared: shared, migrate: migrate, summary: "\(mode) sessions, users and shared state in PostgreSQL",
                    expiring: [sessions, replay, revocations]))
            }
            return
        }
        let file = try sqliteFile()
        let storage = SQLiteStorage(path: file)
        let fileStore = SQLiteSessionStore(storage: storage)
        let accounts = SQLiteAccountStore(path: file)
        let memory = mode == "memory" ? MemorySessionStore() : nil
        let sessionStore: (any SessionStore)? =
            if let memory { memory } else if mode == "sqlite" { fileStore } else { nil }
        var shared = DemoSharedState.inProcess()
        // The account page's recent sign-ins outlive a restart, in the SQLite file.
        shared.trail = AuditTrail(store: fileStore)
        if let memory {
            shared.gauges.register("session store: records") { memory.recordCount }
            shared.gauges.register("session store: group memberships") { memory.groupMemberships }
        }
        // Native apps' refresh-token families live in the same SQLite file, hashed.
        try await closing({ try await storage.close(); try await accounts.close() }) {
            try await body(DemoBackend(
                sessionStore: sessionStore, nativeAppStore: fileStore, accountStore: accounts,
                shared: shared, migrate: {}, summary: "\(mode) sessions, users in \(databasePath)", expiring: [storage]))
        }
    }

    /// Runs `body`, then `close`, whether `body` returned or threw.
    private static func closing(_ close: () async throws -> Void, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            try? await close()
            throw error
        }
        try await close()
    }
}
