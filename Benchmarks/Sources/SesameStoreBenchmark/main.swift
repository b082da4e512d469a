import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Sesame
import SesameSQLite
import Synchronization

// Session resolution per second, per store, at concurrency 1, 16 and 64, side by side in one run:
//   memory    Sesame's StoredSessions.resolve over MemorySessionStore, against hummingbird-auth 2.5's
//             SessionStorage.loadWithTTL (what its SessionMiddleware runs per request) over MemoryPersistDriver;
//   sqlite    StoredSessions.resolve over SQLiteSessionStore (a file in a temporary directory).
// A resolution is a whole read-only request's session work: cookie parsing, MAC check, store read, decoding the
// subject. 1,000 signed-in sessions take turns, as returning browsers would. Every store call is counted, so the
// table also shows store reads and writes per request.
// Usage: swift run -c release --package-path Benchmarks sesame-store-benchmark [seconds-per-measurement] [rounds]

let arguments = CommandLine.arguments.dropFirst().compactMap { Double($0) }
let seconds = arguments.first ?? 3
let rounds = Int(arguments.dropFirst().first ?? 3)
let concurrencies = [1, 16, 64]

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
    func set(_ record: SessionRecord) async throws { sets.add(1, ordering: .relaxed); try await inner.set(record) }
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

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

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
        _ = try await sessions.commit(resolution)
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

print("session resolutions per second (median of \(rounds) rounds × \(seconds) s, alternating order)")
var results: [String: [Int: [Double]]] = [:]
for round in 0..<rounds {
    for concurrency in concurrencies {
        let ordered = round.isMultiple(of: 2) ? candidates : candidates.reversed()
        for candidate in ordered {
            let rate = try await throughput(concurrency: concurrency, seconds: seconds, candidate.operation)
            results[candidate.name, default: [:]][concurrency, default: []].append(rate)
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
print(table)
let ratios = concurrencies.map { concurrency in
    median(results["Sesame memory"]![concurrency]!) / median(results["hummingbird-auth memory"]![concurrency]!)
}
print("Sesame memory ÷ hummingbird-auth memory: " + zip(concurrencies, ratios).map { String(format: "c=%d %.2f×", $0, $1) }.joined(separator: ", "))
try await sqlite.close()
