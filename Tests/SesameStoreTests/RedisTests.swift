import Foundation
import Sesame
@testable import SesameRedis
import SesameTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Redis-specific behaviour, each test against a redis-server of its own (started with
/// `scripts/services/redis` in a temporary directory on a free loopback port).
@Suite(.timeLimit(.minutes(2)))
struct RedisTests {
    static func record(group: String? = nil, value: String = "v", lifetime: TimeInterval = 600) -> SessionRecord {
        SessionRecord(
            key: StoreBehaviourTests.key(), group: group, value: Array(value.utf8),
            expiresAt: Date().addingTimeInterval(lifetime))
    }

    /// Many commands in flight on one connection each get their own reply, in order.
    @Test func pipelinesAThousandCommandsOnOneConnection() async throws {
        try await RedisServerProcess.with { server async throws in
            let connection = try await RedisConnection.connect(configuration: server.configuration())
            // All written before any reply is read; sizes vary so replies straddle reads.
            let payloads = (0..<1_000).map { index in
                "\(index):" + String(repeating: "x", count: Int.random(in: 0...4_096))
            }
            let replies = payloads.map { connection.sendFuture(RedisCommand("ECHO", $0)) }
            for (payload, reply) in zip(payloads, replies) {
                #expect(try await reply.get() == .bulkString(Array(payload.utf8)))
            }
            // From 1,000 concurrent tasks: every INCR answers a different count.
            let counter = "counter:" + UUID().uuidString
            let counts = try await withThrowingTaskGroup(of: Int64?.self) { tasks in
                for _ in 0..<1_000 { tasks.addTask { try await connection.send(RedisCommand("INCR", counter)).integer } }
                return try await tasks.reduce(into: [Int64?]()) { $0.append($1) }
            }
            #expect(Set(counts) == Set((1...1_000).map { Int64?($0) }))
            await connection.close()
        }
    }

    /// A password-protected server: AUTH (with and without a user name) and SELECT on every connection, keys
    /// land in the selected database, and wrong credentials give a clear error.
    @Test func authenticatesAndSelectsTheDatabase() async throws {
        let password = "s3cret pass:@/"
        try await RedisServerProcess.with(password: password) { server in
            let encoded = try #require(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let client = RedisClient(configuration: try RedisConfiguration(url: "redis://:\(encoded)@127.0.0.1:\(server.port)/3"))
            #expect(client.configuration.password == password && client.configuration.database == 3)
            let store = RedisSessionStore(client: client, keyPrefix: "auth:")
            let record = Self.record(group: "user:ada")
            try await store.create(record)
            #expect(try await store.get(record.key)?.value == record.value)

            let database3 = RedisClient(configuration: server.configuration(password: password, database: 3))
            let database0 = RedisClient(configuration: server.configuration(password: password, database: 0))
            #expect(try await database3.send(RedisCommand("EXISTS", "auth:s:" + record.key)) == .integer(1))
            #expect(try await database0.send(RedisCommand("EXISTS", "auth:s:" + record.key)) == .integer(0))

            let named = RedisClient(configuration: try RedisConfiguration(url: "redis://default:\(encoded)@127.0.0.1:\(server.port)/3"))
            #expect(try await RedisSessionStore(client: named, keyPrefix: "auth:").get(record.key)?.value == record.value)

            let wrong = RedisClient(configuration: server.configuration(password: "wrong"))
            let refused = await Self.expectUnavailable { _ = try await RedisSessionStore(client: wrong).get(record.key) }
            #expect(refused.contains("WRONGPASS"))
            // The failed handshake leaves the client usable: it fails the same way again, without crashing.
            _ = await Self.expectUnavailable { _ = try await wrong.send(RedisCommand("PING")) }

            let anonymous = RedisClient(configuration: server.configuration())
            let denied = await Self.expectUnavailable { _ = try await anonymous.send(RedisCommand("GET", "x")) }
            #expect(denied.contains("NOAUTH"))

            let missingDatabase = RedisClient(configuration: server.configuration(password: password, database: 99))
            let selection = await Self.expectUnavailable { _ = try await missingDatabase.send(RedisCommand("PING")) }
            #expect(selection.contains("database 99"))

            for other in [client, database3, database0, named, wrong, anonymous, missingDatabase] { await other.shutdown() }
        }
    }

    /// Callers whose clocks arrive out of order (computed before the call, answered by Redis in another order)
    /// never make a bucket lose tokens: an earlier `now` after a later one refills nothing and takes nothing
    /// extra, so a burst of `capacity` is still allowed.
    @Test func rateLimitClockNeverRunsBackwards() async throws {
        try await RedisServerProcess.with { server async throws in
            let client = RedisClient(configuration: server.configuration())
            let clock = Mutex(1_000.0)
            let limiter = RedisRateLimiter(
                client: client, capacity: 3, refillInterval: 3600, keyPrefix: "clock:",
                now: { clock.withLock { $0 } })
            #expect(try await limiter.consume("k") == nil)
            clock.withLock { $0 = 999.5 }  // A caller that read the clock earlier but arrives later.
            #expect(try await limiter.consume("k") == nil)
            clock.withLock { $0 = 999 }
            #expect(try await limiter.consume("k") == nil)
            clock.withLock { $0 = 1_000 }
            let retryAfter = try #require(try await limiter.consume("k"))
            #expect((1...3600).contains(retryAfter))
            await client.shutdown()
        }
    }

    /// With the server gone every operation fails with `unavailable`; once it is back on the same port the
    /// same client and stores work again without help.
    @Test func failsWhileDownAndReconnectsByItself() async throws {
        try await RedisServerProcess.with { server async throws in
            let client = RedisClient(configuration: server.configuration(poolSize: 3))
            let sessions = RedisSessionStore(client: client, keyPrefix: "down:")
            let replay = RedisReplayStore(client: client, keyPrefix: "down:")
            let limiter = RedisRateLimiter(client: client, capacity: 3, refillInterval: 60, keyPrefix: "down:")
            let revocation = RedisRevocationStore(client: client, keyPrefix: "down:")
            let record = Self.record(group: "user:ada")
            // Every connection of the pool is open before the server goes.
            try await sessions.create(record)
            for _ in 0..<2 { #expect(try await sessions.update(record)) }

            try await server.stop()
            let later = Date().addingTimeInterval(600)
            for _ in 0..<3 {
                _ = await Self.expectUnavailable { _ = try await sessions.get(record.key) }
            }
            _ = await Self.expectUnavailable { try await sessions.create(Self.record()) }
            _ = await Self.expectUnavailable { _ = try await sessions.update(record) }
            _ = await Self.expectUnavailable { try await sessions.delete(record.key) }
            _ = await Self.expectUnavailable { _ = try await sessions.deleteGroup("user:ada") }
            _ = await Self.expectUnavailable { _ = try await sessions.listGroup("user:ada") }
            _ = await Self.expectUnavailable { _ = try await replay.consume(UUID().uuidString, expiresAt: later) }
            _ = await Self.expectUnavailable { _ = try await limiter.consume("ip:127.0.0.1") }
            _ = await Self.expectUnavailable {
                _ = try await revocation.isRevoked(tokenID: "jti", subject: "user:ada", issuedAt: Date())
            }

            try await server.start()
            for _ in 0..<3 { #expect(try await sessions.get(record.key)?.value == record.value) }
            #expect(try await sessions.listGroup("user:ada").map(\.key) == [record.key])
            #expect(try await replay.consume(UUID().uuidString, expiresAt: later))
            #expect(try await limiter.consume("ip:127.0.0.1") == nil)
            #expect(try await revocation.isRevoked(tokenID: "jti", subject: "user:ada", issuedAt: Date()) == false)
            #expect(try await sessions.deleteGroup("user:ada") == 1)
            await client.shutdown()
        }
    }

    /// A server that accepts connections but stops answering: commands fail with `unavailable` after the
    /// command timeout instead of waiting forever, and the client recovers when the server resumes.
    @Test func aServerThatStopsAnsweringTimesOut() async throws {
        try await RedisServerProcess.with { server async throws in
            let client = RedisClient(configuration: server.configuration(poolSize: 1, commandTimeout: .milliseconds(300)))
            let sessions = RedisSessionStore(client: client, keyPrefix: "hang:")
            let record = Self.record()
            try await sessions.create(record)

            let pid = try server.pid()
            #expect(kill(pid, SIGSTOP) == 0)
            let message = await Self.expectUnavailable { _ = try await sessions.get(record.key) }
            #expect(kill(pid, SIGCONT) == 0)
            #expect(message.contains("timeout"))
            #expect(try await sessions.get(record.key)?.value == record.value)
            await client.shutdown()
        }
    }

    /// Sessions written before a restart are there after it (the append-only file), and the stores' scripts
    /// still run although the restarted server forgot them.
    @Test func committedSessionsSurviveARestart() async throws {
        try await RedisServerProcess.with { server async throws in
            let client = RedisClient(configuration: server.configuration())
            let sessions = RedisSessionStore(client: client, keyPrefix: "aof:")
            let records = [Self.record(group: "user:ada", value: "one"), Self.record(group: "user:ada", value: "two")]
            for record in records { try await sessions.create(record) }

            try await server.stop()
            try await server.start()

            let fresh = RedisSessionStore(client: RedisClient(configuration: server.configuration()), keyPrefix: "aof:")
            for record in records {
                let stored = try #require(try await fresh.get(record.key))
                #expect(stored.value == record.value && stored.group == "user:ada")
                #expect(abs(stored.expiresAt.timeIntervalSince(record.expiresAt)) < 0.01)
            }
            #expect(Set(try await sessions.listGroup("user:ada").map(\.key)) == Set(records.map(\.key)))
            #expect(try await sessions.deleteGroup("user:ada") == 2)
            await client.shutdown()
        }
    }

    /// A reply larger than the configured cap is rejected as `invalidResponse`, and the client goes on with
    /// a new connection.
    @Test func oversizedRepliesAreRejected() async throws {
        try await RedisServerProcess.with { server async throws in
            var configuration = server.configuration(poolSize: 1)
            configuration.maximumReplySize = 1_024
            let client = RedisClient(configuration: configuration)
            var big = RedisCommand("SET", "big")
            big.append(bytes: [UInt8](repeating: 0x61, count: 4_096))
            #expect(try await client.send(big) == .simpleString("OK"))
            let detail = await Self.expectInvalidResponse { _ = try await client.send(RedisCommand("GET", "big")) }
            #expect(detail.contains("1024"))
            // The connection that saw the oversized reply is gone; the client goes on with a new one.
            #expect(try await client.send(RedisCommand("STRLEN", "big")) == .integer(4_096))
            // Error replies are errors too.
            let wrongType = await Self.expectInvalidResponse { _ = try await client.send(RedisCommand("LPUSH", "big", "x")) }
            #expect(wrongType.contains("WRONGTYPE"))
            await client.shutdown()
        }
    }

    /// Reading a session is one command (`HMGET`): the server counts exactly one per `get`, and nothing else.
    @Test func aSessionReadIsOneCommand() async throws {
        try await RedisServerProcess.with { server in
            let client = RedisClient(configuration: server.configuration())
            let sessions = RedisSessionStore(client: client, keyPrefix: "read:")
            let record = Self.record(group: "user:ada")
            try await sessions.create(record)
            _ = try await client.send(RedisCommand("CONFIG", "RESETSTAT"))
            for _ in 0..<10 { #expect(try await sessions.get(record.key)?.value == record.value) }
            #expect(try await sessions.get(StoreBehaviourTests.key()) == nil)
            let stats = try #require(try await client.send(RedisCommand("INFO", "commandstats")).string)
            let calls = Dictionary(uniqueKeysWithValues: stats.split(whereSeparator: \.isNewline).compactMap { line -> (String, Int)? in
                guard line.hasPrefix("cmdstat_"), let colon = line.firstIndex(of: ":"),
                    let callsField = line[colon...].split(separator: ",").first,
                    let count = Int(callsField.dropFirst("calls=".count + 1))
                else { return nil }
                return (String(line[line.index(line.startIndex, offsetBy: 8)..<colon]), count)
            })
            #expect(calls.filter { !$0.key.hasPrefix("config") } == ["hmget": 11])
            await client.shutdown()
        }
    }

    /// URLs name host, port, credentials and database; others are rejected.
    @Test func configurationFromURLs() throws {
        let full = try RedisConfiguration(url: "redis://ada:p%40ss@127.0.0.1:6380/3")
        #expect(full.host == "127.0.0.1" && full.port == 6380 && full.database == 3)
        #expect(full.username == "ada" && full.password == "p@ss")
        let bare = try RedisConfiguration(url: "redis://localhost")
        #expect(bare.host == "localhost" && bare.port == 6379 && bare.database == 0)
        #expect(bare.username == nil && bare.password == nil)
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@[::1]:7000/")
        #expect(passwordOnly.host == "::1" && passwordOnly.port == 7000 && passwordOnly.username == nil)
        #expect(passwordOnly.password == "secret")
        for invalid in ["http://127.0.0.1:6379", "rediss://127.0.0.1", "redis://127.0.0.1/x", "redis:///0", "redis://127.0.0.1/1/2"] {
            #expect(throws: RedisConfiguration.InvalidURL.self) { try RedisConfiguration(url: invalid) }
        }
    }

    /// Asserts that `body` throws ``SessionStoreError/unavailable(_:)``, and returns its message.
    static func expectUnavailable(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async -> String {
        let error = await #expect(throws: SessionStoreError.self, sourceLocation: sourceLocation) { try await body() }
        guard case .unavailable(let message) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))", sourceLocation: sourceLocation)
            return ""
        }
        return message
    }

    /// Asserts that `body` throws ``SessionStoreError/invalidResponse(_:)``, and returns its detail.
    static func expectInvalidResponse(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async -> String {
        let error = await #expect(throws: SessionStoreError.self, sourceLocation: sourceLocation) { try await body() }
        guard case .invalidResponse(let detail) = error else {
            Issue.record("expected invalidResponse, got \(String(describing: error))", sourceLocation: sourceLocation)
            return ""
        }
        return detail
    }
}

/// A redis-server of one test's own, in a temporary directory on a free loopback port, driven by
/// `scripts/services/redis`.
struct RedisServerProcess: Sendable {
    let directory: String
    let port: Int
    let password: String?

    /// Starts a server, runs `body`, and stops the server and removes its directory afterwards.
    static func with(password: String? = nil, _ body: (RedisServerProcess) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sesame-redis-\(UUID().uuidString)").path
        let server = RedisServerProcess(directory: directory, port: try await LivePorts.free(), password: password)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await server.start()
        do {
            try await body(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }

    func start() async throws {
        try await Self.script(["start", directory, String(port)] + (password.map { [$0] } ?? []))
    }

    func stop() async throws {
        try await Self.script(["stop", directory])
    }

    /// The server process's ID, from its pidfile.
    func pid() throws -> pid_t {
        let text = try String(contentsOfFile: directory + "/redis.pid", encoding: .utf8)
        return try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// A client configuration for this server.
    func configuration(
        password: String? = nil, database: Int = 0, poolSize: Int = 2, commandTimeout: Duration = .seconds(5)
    ) -> RedisConfiguration {
        RedisConfiguration(
            host: "127.0.0.1", port: port, password: password, database: database, poolSize: poolSize,
            connectTimeout: .seconds(5), commandTimeout: commandTimeout)
    }

    /// Runs `scripts/services/redis` (off the cooperative pool, passing down no descriptors).
    private static func script(_ arguments: [String]) async throws {
        _ = try await ServiceScript.run("redis", arguments)
    }
}
