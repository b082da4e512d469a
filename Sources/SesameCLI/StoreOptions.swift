import ArgumentParser
import Foundation
import PostgresNIO
import Sesame
import SesamePostgres
import SesameRedis
import SesameSQLite

/// The stores a command works on: users and accounts always; sessions and the revocation store where the app keeps
/// them (PostgreSQL, Redis, or the SQLite file's sessions with no revocation store).
struct CommandStores: Sendable {
    let accounts: any AccountStore & UserDirectory
    let sessions: any SessionStore
    /// Where stateless session tokens are revoked, when the app shares one (PostgreSQL or Redis).
    let revocations: (any RevocationStore)?
    /// The stores' names, for messages.
    let name: String
    /// Creates the tables of Sesame's other PostgreSQL stores (sessions, revocations, replay, rate limits).
    var migrateOtherTables: @Sendable () async throws -> Void = {}
}

/// Which account store a command works on: a SQLite file or a PostgreSQL database, as the app configures it.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The SQLite file (default: SESAME_SQLITE_PATH, else .sesame/sessions.sqlite).", valueName: "path"))
    var sqlite: String?

    @Option(help: ArgumentHelp("A PostgreSQL URL (default: SESAME_POSTGRES_URL when set; it wins over SQLite).", valueName: "url"))
    var postgres: String?

    @Option(help: "The PostgreSQL schema of Sesame's tables (default: the search path's).")
    var schema: String?

    @Option(help: "The prefix of Sesame's PostgreSQL table names.")
    var prefix: String = "sesame_"

    @Option(help: ArgumentHelp(
        "A Redis URL for sessions and revocations (default: SESAME_REDIS_URL when set); users stay in SQLite or PostgreSQL.",
        valueName: "url"))
    var redis: String?

    /// The Redis URL to use, if any.
    var redisURL: String? {
        redis ?? ProcessInfo.processInfo.environment["SESAME_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The PostgreSQL URL to use, if any: `--postgres`, else (without `--sqlite`) SESAME_POSTGRES_URL.
    var postgresURL: String? {
        if let postgres { return postgres }
        guard sqlite == nil else { return nil }
        return ProcessInfo.processInfo.environment["SESAME_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The SQLite path to use.
    var sqlitePath: String {
        sqlite ?? ProcessInfo.processInfo.environment["SESAME_SQLITE_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? ".sesame/sessions.sqlite"
    }

    func validate() throws {
        if sqlite != nil, postgres != nil { throw ValidationError("--sqlite and --postgres name two stores: give one") }
    }

    /// Runs `body` with the configured store (migrated by `body` if it wants), closing it afterwards.
    ///
    /// - Parameters:
    ///   - creating: Whether a missing SQLite file may be created (only `migrate` creates one).
    ///   - body: The work, given the store and a name for messages.
    func withStore<Value: Sendable>(creating: Bool = false, _ body: (any AccountStore & UserDirectory, String) async throws -> Value) async throws -> Value {
        try await withStores(creating: creating) { stores in try await body(stores.accounts, stores.name) }
    }

    /// Runs `body` with every configured store, closing them afterwards.
    ///
    /// - Parameters:
    ///   - creating: Whether a missing SQLite file may be created.
    ///   - body: The work.
    func withStores<Value: Sendable>(creating: Bool = false, _ body: (CommandStores) async throws -> Value) async throws -> Value {
        guard let redisURL else { return try await withDatabase(creating: creating, redis: nil, body) }
        let configuration: RedisConfiguration
        do { configuration = try RedisConfiguration(url: redisURL) } catch {
            throw CommandFailure(description: "the Redis URL is not usable: \(error)", code: 2)
        }
        let client = RedisClient(configuration: configuration)
        do {
            let value = try await withDatabase(creating: creating, redis: client, body)
            await client.shutdown()
            return value
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func withDatabase<Value: Sendable>(
        creating: Bool, redis: RedisClient?, _ body: (CommandStores) async throws -> Value
    ) async throws -> Value {
        if let url = postgresURL {
            let namespace: PostgresTableNamespace
            let configuration: PostgresClient.Configuration
            do {
                namespace = try PostgresTableNamespace(schema: schema, prefix: prefix)
                configuration = try PostgresStoreClient.configuration(url: url)
            } catch {
                throw CommandFailure(description: "the PostgreSQL settings are not usable: \(error)", code: 2)
            }
            return try await PostgresStoreClient.withRunningClient(configuration) { client in
                let store = PostgresAccountStore(client: client, namespace: namespace, operationTimeout: .seconds(5))
                let sessions = PostgresSessionStore(client: client, namespace: namespace)
                let revocations = PostgresRevocationStore(client: client, namespace: namespace)
                let stores = CommandStores(
                    accounts: store,
                    sessions: redis.map { RedisSessionStore(client: $0) } ?? sessions,
                    revocations: redis.map { RedisRevocationStore(client: $0) } ?? revocations,
                    name: redis == nil ? "PostgreSQL" : "PostgreSQL and Redis",
                    migrateOtherTables: {
                        try await sessions.migrate()
                        try await revocations.migrate()
                        try await PostgresReplayStore(client: client, namespace: namespace).migrate()
                        try await PostgresRateLimiter.migrate(client: client, namespace: namespace)
                    })
                do {
                    return try await body(stores)
                } catch let failure as CommandFailure {
                    throw failure
                } catch {
                    throw CommandFailure(description: "PostgreSQL: \(Self.describe(error))")
                }
            }
        }
        let path = sqlitePath
        if !FileManager.default.fileExists(atPath: path) {
            guard creating else { throw CommandFailure(description: "SQLite \(path): no such file (run `sesame migrate` first, or name the file with --sqlite)") }
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        }
        let store = SQLiteAccountStore(path: path)
        // The SQLite file's sessions, unless they are in Redis.
        let storage = SQLiteStorage(path: path)
        let stores = CommandStores(
            accounts: store, sessions: redis.map { RedisSessionStore(client: $0) } ?? SQLiteSessionStore(storage: storage),
            revocations: redis.map { RedisRevocationStore(client: $0) }, name: redis == nil ? "SQLite \(path)" : "SQLite \(path) and Redis")
        do {
            let value = try await body(stores)
            try await store.close()
            try await storage.close()
            return value
        } catch {
            try? await store.close()
            try? await storage.close()
            if let failure = error as? CommandFailure { throw failure }
            throw CommandFailure(description: "SQLite \(path): \(Self.describe(error))")
        }
    }

    /// A store error for people: PostgresNIO's errors hide their cause from `description`.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "cannot reach the server (\(error.code))"
        }
        return String(describing: error)
    }
}
