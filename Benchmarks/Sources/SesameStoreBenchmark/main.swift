import BenchmarkSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdAuth
import Sesame
import PostgresNIO
import SesamePostgres
import SesameRedis
import SesameSQLite
import Synchronization

// Session resolution per second, per store, at concurrency 1, 16 and 64, side by side in one run:
//   memory    Sesame's StoredSessions.resolve over MemorySessionStore, against hummingbird-auth 2.5's
//             SessionStorage.loadWithTTL (what its SessionMiddleware runs per request) over MemoryPersistDriver;
//   sqlite    StoredSessions.resolve over SQLiteSessionStore (a file in a temporary directory);
//   postgres  StoredSessions.resolve over PostgresSessionStore, against `pgbench -S` (its read-only
//             select-by-primary-key transaction) at the same concurrency on the same server: the limit.
//   redis     StoredSessions.resolve over RedisSessionStore (Sesame's own RESP client, 4 pipelined connections),
//             against `redis-benchmark -t get` at the same concurrency on the same server: the limit.
// For PostgreSQL and Redis, the client library alone (pgbench's query through postgres-nio's PostgresClient, a GET
// through Sesame's RESP client) runs too, to show how much of the gap to the server's tool is the client's.
// The Redis server comes from SESAME_BENCH_REDIS_URL, the PostgreSQL server from SESAME_BENCH_POSTGRES_URL (for example from `scripts/services/postgres start`);
// without one, its rows are skipped.
// A resolution is a whole read-only request's session work: cookie parsing, MAC check, store read, decoding the
// subject. 1,000 signed-in sessions take turns, as returning browsers would. Every store call is counted, so the
// table also shows store reads and writes per request.
// Usage: swift run -c release --package-path Benchmarks sesame-store-benchmark [seconds-per-measurement] [rounds]

let arguments = CommandLine.arguments.dropFirst().compactMap { Double($0) }
let seconds = arguments.first ?? 3
let rounds = Int(arguments.dropFirst().first ?? 3)
let concurrencies = ProcessInfo.processInfo.environment["SESAME_BENCH_CONCURRENCY"].map { $0.split(separator: ",").compactMap { Int($0) } } ?? [1, 16, 64]

enum BenchSession: SessionSubject {
    case user(userID: String)
}

struct BenchData: Codable, Sendable, Equatable {
    var theme: String
}

struct HummingbirdSession: Codable, Sendable {
    var userID: String
}

/// Counts what a store is asked.
final class CountingStore: SessionStore {
    let inner: any SessionStore
    let gets = Atomic(0), sets = Atomic(0), others = Atomic(0)
    init(_ inner: any SessionStore) { self.inner = inner }
    func get(_ key: String) async throws -> SessionRecord? { gets.add(1, ordering: .relaxed); return try await inner.get(key) }
    func create(_ record: SessionRecord) async throws { sets.add(1, ordering: .relaxed); try await inner.create(record) }
    func update(_ record: SessionRecord) async throws -> Bool { sets.add(1, ordering: .relaxed); return try await inner.update(record) }
    func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        sets.add(1, ordering: .relaxed); return try await inner.replace(record, expectedValue: expectedValue)
    }
    func delete(_ key: String) async throws { others.add(1, ordering: .relaxed); try await inner.delete(key) }
    func deleteGroup(_ group: String) async throws -> Int { others.add(1, ordering: .relaxed); return try await inner.deleteGroup(group) }
    func listGroup(_ group: String) async throws -> [SessionRecord] { others.add(1, ordering: .relaxed); return try await inner.listGroup(group) }
    func reset() { gets.store(0, ordering: .relaxed); sets.store(0, ordering: .relaxed); others.store(0, ordering: .relaxed) }
}

/// `concurrency` tasks call `operation` in a loop for `seconds`; returns operations per second.
func throughput(concurrency: Int, seconds: Double, _ operation: @escaping @Sendable () async throws -> Void) async throws -> Double {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    let start = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline {
                    for _ in 0..<16 { try await operation() }
                    count += 16
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// A signed-in session in `store` and the request that carries its cookie.
func signedInRequest(_ sessions: StoredSessions<BenchSession, BenchData>) async throws -> HTTPRequest {
    let response = try await sessions.signIn(.user(userID: "248289761001"), request: nil, redirect: "https://app.example/")
    guard let cookie = response.headerFields[.setCookie]?.prefix(while: { $0 != ";" }) else { fatalError("no session cookie") }
    var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api/me")
    request.headerFields[.cookie] = String(cookie)
    return request
}

let signer = SessionCookieSigner(secrets: [Array(repeating: 42, count: 32)])
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-store-bench-" + UUID().uuidString)
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

struct Candidate: Sendable {
    let name: String
    let counter: CountingStore?
    let operation: @Sendable () async throws -> Void
}

var candidates: [Candidate] = []
let sessionCount = 1000

/// A request index that moves on with every call, shared by all tasks (a relaxed counter: contention-free enough).
final class Turns: Sendable {
    let next = Atomic(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue % sessionCount }
}

func sesameCandidate(_ name: String, store: any SessionStore) async throws -> Candidate {
    let counter = CountingStore(store)
    let sessions = StoredSessions<BenchSession, BenchData>(store: counter, signer: signer)
    var requests: [HTTPRequest] = []
    for _ in 0..<sessionCount { requests.append(try await signedInRequest(sessions)) }
    counter.reset()
    let turns = Turns()
    return Candidate(name: name, counter: counter) { [requests] in
        let resolution = await sessions.resolve(requests[turns.take()])
        guard case .user? = resolution.session?.subject else { fatalError("\(name): the session did not resolve") }
        _ = try await sessions.commit(resolution).value.get()
    }
}
candidates.append(try await sesameCandidate("Sesame memory", store: MemorySessionStore()))

// hummingbird-auth: the same work its SessionMiddleware does before the handler runs.
let persist = MemoryPersistDriver()
let hummingbirdStorage = SessionStorage<HummingbirdSession>(persist)
var hummingbirdRequests: [Request] = []
for _ in 0..<sessionCount {
    let cookie = try await hummingbirdStorage.save(session: HummingbirdSession(userID: "248289761001"), expiresIn: .seconds(6 * 3600))
    var head = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api/me")
    head.headerFields[.cookie] = "\(cookie.name)=\(cookie.value)"
    hummingbirdRequests.append(Request(head: head, body: RequestBody(buffer: ByteBuffer())))
}
let hummingbirdTurns = Turns()
candidates.append(Candidate(name: "hummingbird-auth memory", counter: nil) { [hummingbirdRequests] in
    guard try await hummingbirdStorage.loadWithTTL(request: hummingbirdRequests[hummingbirdTurns.take()])?.session.userID == "248289761001" else {
        fatalError("hummingbird-auth: the session did not load")
    }
})

let sqlite = SQLiteStorage(path: directory.appendingPathComponent("sessions.sqlite").path)
candidates.append(try await sesameCandidate("Sesame SQLite", store: SQLiteSessionStore(storage: sqlite)))

/// External load generators measured at the same concurrencies (name → concurrency → operations per second).
var limits: [String: (Int) throws -> Double] = [:]

var postgresClientTask: Task<Void, Never>? = nil
if let url = ProcessInfo.processInfo.environment["SESAME_BENCH_POSTGRES_URL"], let components = URLComponents(string: url) {
    let client = PostgresClient(configuration: try PostgresStoreClient.configuration(url: url, maximumConnections: 32))
    postgresClientTask = Task { await client.run() }
    let namespace = try PostgresTableNamespace(prefix: "bench_")
    // SESAME_BENCH_PG_LOOKUPS sets the store's concurrentLookups (default: the store's default).
    let store = ProcessInfo.processInfo.environment["SESAME_BENCH_PG_LOOKUPS"].flatMap(Int.init).map {
        PostgresSessionStore(client: client, namespace: namespace, concurrentLookups: $0)
    } ?? PostgresSessionStore(client: client, namespace: namespace)
    try await store.migrate()
    candidates.append(try await sesameCandidate("Sesame PostgreSQL", store: store))
    let connection = ["-h", components.host ?? "127.0.0.1", "-p", String(components.port ?? 5432), "-U", components.user ?? "postgres"]
    let database = String(components.path.dropFirst())
    _ = try runCommand(["pgbench", "-i", "-q", "-s", "1"] + connection + [database])
    // The client library's own floor: pgbench -S's query, through the same PostgresClient, with no session work.
    candidates.append(Candidate(name: "postgres-nio query alone", counter: nil) {
        for try await _ in try await client.query("SELECT abalance FROM pgbench_accounts WHERE aid = 1") {}
    })
    // And without the pool: one PostgresConnection that every task shares (postgres-nio queues its queries).
    let direct = try await PostgresConnection.connect(
        configuration: PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable),
        id: 1, logger: Logger(label: "bench"))
    candidates.append(Candidate(name: "postgres-nio, one connection, no pool", counter: nil) {
        for try await _ in try await direct.query("SELECT abalance FROM pgbench_accounts WHERE aid = 1", logger: Logger(label: "bench")) {}
    })
    limits["pgbench -S"] = { concurrency in
        let output = try runCommand(["pgbench", "-S", "-n", "-c", String(concurrency), "-j", String(min(concurrency, 2)), "-T", String(Int(seconds))] + connection + [database])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst("tps = ".count).prefix { $0 != " " })
        else { fatalError("pgbench printed no tps line: \(output)") }
        return tps
    }
}

var redisClient: RedisClient? = nil
if let url = ProcessInfo.processInfo.environment["SESAME_BENCH_REDIS_URL"], let components = URLComponents(string: url) {
    var configuration = try RedisConfiguration(url: url)
    if let size = ProcessInfo.processInfo.environment["SESAME_BENCH_REDIS_POOL"].flatMap(Int.init) { configuration.poolSize = size }
    let client = RedisClient(configuration: configuration)
    redisClient = client
    candidates.append(try await sesameCandidate("Sesame Redis", store: RedisSessionStore(client: client, keyPrefix: "bench:")))
    // The client's own floor: one GET through the same RESP client, with no session work.
    candidates.append(Candidate(name: "Sesame RESP client GET alone", counter: nil) { _ = try await client.send(RedisCommand("GET", "bench:none")) })
    let connection = ["-h", components.host ?? "127.0.0.1", "-p", String(components.port ?? 6379)]
    limits["redis-benchmark -t get"] = { concurrency in
        let requests = Int(seconds * 40_000)
        let output = try runCommand(["redis-benchmark", "-t", "get", "-c", String(concurrency), "-n", String(requests), "-q", "--csv"] + connection)
        // CSV: "test","rps",…
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("\"GET\"") }) else { fatalError("redis-benchmark printed no GET line: \(output)") }
        let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        guard fields.count > 1, let rps = Double(fields[1]) else { fatalError("redis-benchmark: \(line)") }
        return rps
    }
}


// SESAME_BENCH_ONLY=Redis (a substring of the names) keeps only the matching rows, for profiling one store.
if let only = ProcessInfo.processInfo.environment["SESAME_BENCH_ONLY"] {
    candidates.removeAll { !$0.name.contains(only) }
    limits = limits.filter { $0.key.contains(only.lowercased()) }
}
print("session resolutions per second (median of \(rounds) rounds × \(seconds) s, alternating order)")
var results: [String: [Int: [Double]]] = [:]
for round in 0..<rounds {
    for concurrency in concurrencies {
        let ordered = round.isMultiple(of: 2) ? candidates : candidates.reversed()
        for candidate in ordered {
            let rate = try await throughput(concurrency: concurrency, seconds: seconds, candidate.operation)
            results[candidate.name, default: [:]][concurrency, default: []].append(rate)
        }
        for (name, limit) in limits.sorted(by: { $0.key < $1.key }) {
            results[name, default: [:]][concurrency, default: []].append(try limit(concurrency))
        }
    }
}
var table = "| store | " + concurrencies.map { "c=\($0)" }.joined(separator: " | ") + " | store reads / writes per request |\n"
table += "|---|" + concurrencies.map { _ in "---:" }.joined(separator: "|") + "|---|\n"
for candidate in candidates {
    let rates = concurrencies.map { median(results[candidate.name]![$0]!) }
    var operations = "n/a"
    if let counter = candidate.counter {
        // One more measured pass, to count store calls per resolution.
        counter.reset()
        for _ in 0..<1000 { try await candidate.operation() }
        operations = String(format: "%.2f / %.2f", Double(counter.gets.load(ordering: .relaxed)) / 1000, Double(counter.sets.load(ordering: .relaxed)) / 1000)
    }
    table += "| \(candidate.name) | " + rates.map { String(format: "%.0f", $0) }.joined(separator: " | ") + " | \(operations) |\n"
}
for name in limits.keys.sorted() {
    let rates = concurrencies.map { median(results[name]![$0]!) }
    table += "| \(name) (the limit) | " + rates.map { String(format: "%.0f", $0) }.joined(separator: " | ") + " | 1 read (the server's own tool) |\n"
}
print(table)
if results["Sesame memory"] != nil, results["hummingbird-auth memory"] != nil {
    let ratios = concurrencies.map { concurrency in
        median(results["Sesame memory"]![concurrency]!) / median(results["hummingbird-auth memory"]![concurrency]!)
    }
    print("Sesame memory ÷ hummingbird-auth memory: " + zip(concurrencies, ratios).map { String(format: "c=%d %.2f×", $0, $1) }.joined(separator: ", "))
}
for (store, limit) in [("Sesame PostgreSQL", "pgbench -S"), ("Sesame Redis", "redis-benchmark -t get")] where results[store] != nil && results[limit] != nil {
    let ratios = concurrencies.map { median(results[store]![$0]!) / median(results[limit]![$0]!) }
    print("\(store) ÷ \(limit): " + zip(concurrencies, ratios).map { String(format: "c=%d %.2f×", $0, $1) }.joined(separator: ", "))
}
try await sqlite.close()
postgresClientTask?.cancel()
await redisClient?.shutdown()
