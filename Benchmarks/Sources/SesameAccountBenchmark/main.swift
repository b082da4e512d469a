import BenchmarkSupport
import Foundation
import Logging
import PostgresNIO
import Sesame
import SesamePostgres
import SesameSQLite

// Account-store operations per second, per store, at concurrency 1, 16 and 64, side by side in one run:
//   lookup          AccountStore.user(id:) for one of 1,000 users (what a request that shows the user costs);
//   find-or-create  Accounts.signIn for an identity already linked (what a returning user's sign-in costs: the
//                   account by provider key joined with its user, one statement);
// for PostgreSQL against pgbench running the same statements (a custom script, `\set n random(1, 1000)`) at the
// same concurrency on the same server: the limit (target: Sesame ÷ pgbench ≥ 0.7 at 16 and 64). SQLite and memory
// are listed for scale. Sesame's pool holds at most 24 connections (pgbench at 64 needs the rest of the server's 100). PostgreSQL comes from SESAME_BENCH_POSTGRES_URL; without it, its rows are skipped.
// Usage: swift run -c release --package-path Benchmarks sesame-account-benchmark [seconds-per-measurement] [rounds]

let arguments = CommandLine.arguments.dropFirst().compactMap { Double($0) }
let seconds = arguments.first ?? 3
let rounds = Int(arguments.dropFirst().first ?? 3)
// SESAME_BENCH_CONCURRENCY=16 measures one concurrency only (for a profiler).
let concurrencies = ProcessInfo.processInfo.environment["SESAME_BENCH_CONCURRENCY"].flatMap(Int.init).map { [$0] } ?? [1, 16, 64]
let userCount = 1_000
let keys = try KeySet(activeKey: JWK.generate(.es256))

/// Runs `body` in `tasks` concurrent tasks for about `seconds`, and returns operations per second.
func throughput(tasks: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for task in 0..<tasks {
            group.addTask {
                var count = 0, n = task * 7919
                while clock.now < deadline {
                    for _ in 0..<8 {
                        n = (n &* 1_103_515_245 &+ 12345) & 0x7fff_ffff
                        try await body(n % userCount + 1)
                    }
                    count += 8
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = clock.now - start
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Fills a store with `userCount` users (`bench-user-N`), each with one account (`github`, `acct-N`).
func fill(_ store: any AccountStore) async throws {
    let now = Date()
    for n in 1...userCount where try await store.user(id: "bench-user-\(n)") == nil {
        let user = AuthUser(id: "bench-user-\(n)", email: "user\(n)@example.com", emailVerified: now, name: "User \(n)", image: nil,
                            createdAt: now, updatedAt: now, payloadJSON: nil)
        try await store.createUser(user, account: AuthAccount(key: AccountKey(provider: "github", providerAccountID: "acct-\(n)"), userID: user.id, type: .oauth))
    }
}

struct Candidate {
    let name: String
    let lookup: @Sendable (Int) async throws -> Void
    let findOrCreate: @Sendable (Int) async throws -> Void
}

func candidate(_ name: String, _ store: any AccountStore) async throws -> Candidate {
    try await fill(store)
    let accounts = Accounts(store: store, keys: keys)
    return Candidate(name: name) { n in
        guard try await store.user(id: "bench-user-\(n)") != nil else { fatalError("missing user") }
    } findOrCreate: { n in
        let identity = ProviderIdentity(claims: [:], profile: Profile(id: "acct-\(n)", email: "user\(n)@example.com", emailVerified: true))
        let signIn = try await accounts.signIn(provider: "github", type: .oauth, identity: identity)
        guard signIn.trigger == .signIn else { fatalError("not an existing account") }
    }
}

// SESAME_BENCH_STORES=postgres (a comma-separated list of memory, sqlite, postgres) measures only those.
let stores = Set((ProcessInfo.processInfo.environment["SESAME_BENCH_STORES"] ?? "memory,sqlite,postgres").split(separator: ",").map(String.init))
var candidates: [Candidate] = []
if stores.contains("memory") { candidates.append(try await candidate("Sesame memory", MemoryAccountStore())) }
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-account-bench-" + UUID().uuidString)
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
if stores.contains("sqlite") {
    candidates.append(try await candidate("Sesame SQLite", SQLiteAccountStore(path: directory.appendingPathComponent("accounts.sqlite").path)))
}

var pgbench: ((_ script: String, _ concurrency: Int) throws -> Double)? = nil
var scripts: [String: String] = [:]
var runner: Task<Void, Never>? = nil
if stores.contains("postgres"), let url = ProcessInfo.processInfo.environment["SESAME_BENCH_POSTGRES_URL"], let components = URLComponents(string: url) {
    let client = PostgresClient(configuration: try PostgresStoreClient.configuration(url: url, maximumConnections: 24))
    runner = Task { await client.run() }
    let namespace = try PostgresTableNamespace(prefix: "bench_")
    let store = PostgresAccountStore(client: client, namespace: namespace)
    try await store.migrate()
    candidates.append(try await candidate("Sesame PostgreSQL", store))
    let connection = ["-h", components.host ?? "127.0.0.1", "-p", String(components.port ?? 5432), "-U", components.user ?? "postgres"]
    let database = String(components.path.dropFirst())
    // The statements Sesame sends, as pgbench scripts.
    let users = "SELECT id, email, email_verified, name, image, created_at, updated_at, payload FROM bench_users WHERE id = 'bench-user-' || :n;"
    // A returning sign-in reads the account and its user in one join.
    let accountAndUser = """
        SELECT a.provider, a.issuer, a.provider_account_id, a.user_id, a.type, a.tokens, a.needs_reauthentication, a.created_at, \
        u.id, u.email, u.email_verified, u.name, u.image, u.created_at, u.updated_at, u.payload \
        FROM bench_accounts a LEFT JOIN bench_users u ON u.id = a.user_id \
        WHERE a.provider = 'github' AND a.issuer = '' AND a.provider_account_id = 'acct-' || :n;
        """
    for (name, body) in [("lookup", users), ("find-or-create", accountAndUser)] {
        let path = directory.appendingPathComponent(name + ".sql").path
        try "\\set n random(1, \(userCount))\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        scripts[name] = path
    }
    pgbench = { script, concurrency in
        let output = try runCommand(["pgbench", "-n", "-f", script, "-c", String(concurrency), "-j", String(min(concurrency, 2)),
                                     "-T", String(Int(seconds))] + connection + [database])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst("tps = ".count).prefix { $0 != " " })
        else { fatalError("pgbench printed no tps line: \(output)") }
        return tps
    }
}

let cpuModel = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"

print("Sesame account-store benchmark")
print("machine: \(cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores; date: \(ISO8601DateFormatter().string(from: Date()))")
print("measurement: \(seconds) s per cell, \(rounds) rounds alternating Sesame and pgbench; medians; ratios are medians of per-round ratios")
print("")
print("| store | operation | concurrency | Sesame (/s) | pgbench, same statements (/s) | Sesame ÷ pgbench |")
print("|---|---|---:|---:|---:|---:|")
for candidate in candidates {
    for operation in ["lookup", "find-or-create"] {
        for concurrency in concurrencies {
            var sesame: [Double] = [], tool: [Double] = [], ratios: [Double] = []
            for _ in 0..<rounds {
                let rate = try await throughput(tasks: concurrency, operation == "lookup" ? candidate.lookup : candidate.findOrCreate)
                sesame.append(rate)
                if candidate.name == "Sesame PostgreSQL", let pgbench, let script = scripts[operation] {
                    let limit = try pgbench(script, concurrency)
                    tool.append(limit)
                    ratios.append(rate / limit)
                }
            }
            let toolText = tool.isEmpty ? "n/a" : String(format: "%.0f", median(tool))
            let ratioText = ratios.isEmpty ? "n/a" : String(format: "%.2f×", median(ratios))
            print("| \(candidate.name) | \(operation) | \(concurrency) | \(String(format: "%.0f", median(sesame))) | \(toolText) | \(ratioText) |")
        }
    }
}
runner?.cancel()
exit(0)
