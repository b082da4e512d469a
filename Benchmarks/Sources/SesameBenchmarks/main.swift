import BenchmarkSupport
import Crypto
import Foundation
import HTTPTypes
import JWTKit
import Sesame
import _CryptoExtras

// Session token verification throughput, side by side in one run:
//   raw     the bare swift-crypto operation on the token's own bytes (the limit),
//   Sesame  SessionTokens.verify with the verified-token cache off (the full miss path: size cap, base64url,
//           header, strict key selection, signature or decryption, claims, typed subject, revocation check),
//   jwt-kit JWTKeyCollection.verify of the same token bytes into an equivalent payload type.
// Usage: swift run -c release --package-path Benchmarks sesame-benchmarks [seconds-per-measurement] [rounds]

enum AppSession: SessionSubject {
    case user(userID: String, tenantID: String?)
    case apiKey(keyID: String)
}

struct JWTKitSessionPayload: JWTPayload {
    struct Properties: Codable, Sendable {
        var userID: String
        var tenantID: String?
    }

    var type: String
    var properties: Properties
    var sub: SubjectClaim
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var jti: IDClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "profile" {
    // `profile ALG SECONDS [TASKS] [jwt]`: only Sesame's verification, in TASKS tasks (default 1), for a profiler.
    let algorithm = KeyAlgorithm(name: arguments.dropFirst().first ?? "HS256") ?? .hs256
    let seconds = arguments.dropFirst(2).first.flatMap(Double.init) ?? 5
    let tasks = arguments.dropFirst(3).first.flatMap(Int.init) ?? 1
    let benchmarkCase = try await makeCase(algorithm)
    let sessions = benchmarkCase.sesame, token = benchmarkCase.token, keys = benchmarkCase.keys
    let rate = arguments.contains("jwt")
        ? try await throughput(tasks: tasks, seconds: seconds) { _ = try JWT.verify(token, keys: keys) }
        : try await throughput(tasks: tasks, seconds: seconds) { _ = try await sessions.verify(token) }
    print("\(benchmarkCase.name): \(format(rate))/s")
    exit(0)
}
/// A seeded generator, so that runs shuffle alike.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

if arguments.first == "enumeration" {
    // `enumeration SAMPLES`: how long the password provider's answers take for known and unknown addresses, in
    // process through the handler (OWASP scrypt, in-memory stores, limits lifted, delivery after the answer), the
    // kinds interleaved sample by sample. Target: each pair's ratio of medians within noise of 1.
    let samples = arguments.dropFirst().first.flatMap(Int.init) ?? 15
    enum Subject: SessionSubject { case user(id: String) }
    let keys = try KeySet(activeKey: JWK.generate(.es256))
    let store = MemoryAccountStore()
    let unlimited = MemoryRateLimiter(capacity: 1 << 40, refillInterval: 1e-9)
    let passwords = PasswordAccounts(store: store, configuration: PasswordAccounts.Configuration(perAddress: unlimited, perClient: unlimited))
    let handler = AuthHandler(
        providers: ["password": PasswordProvider(passwords: passwords) { _ in }], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys,
        accounts: Accounts(store: store, keys: keys), sessions: StoredSessions<Subject, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys)),
        subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } })
    let password = "correct horse battery staple"
    guard case .created(_, let verification) = try await passwords.signUp(email: "known@example.com", password: password, client: nil) else { fatalError() }
    _ = try await passwords.verifyEmail("known@example.com", code: verification.code)
    let oauthOnly = AuthUser(email: "oauth@example.com", emailVerified: Date())
    try await store.createUser(oauthOnly, account: AuthAccount(key: AccountKey(provider: "github", providerAccountID: "1"), userID: oauthOnly.id, type: .oauth))
    let csrf = await handler.handle(AuthRequest(head: HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/csrf")))
    let token = try JSONValue(parsing: csrf.body)["csrfToken"]!.stringValue!
    let cookie = String(csrf.head.headerFields[values: .setCookie].first!.prefix { $0 != ";" })
    func post(_ path: String, _ form: [(String, String)]) async -> (Duration, Int) {
        var head = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: path)
        head.headerFields[.contentType] = "application/x-www-form-urlencoded"
        head.headerFields[.cookie] = cookie
        head.headerFields[.origin] = "https://app.example"
        head.headerFields[.accept] = "application/json"
        let body = Array(URLEncodedForm([(name: "csrfToken", value: token)] + form.map { (name: $0.0, value: $0.1) }).encoded.utf8)
        let clock = ContinuousClock(), start = clock.now
        let response = await handler.handle(AuthRequest(head: head, body: body, clientAddress: "198.51.100.1"))
        return (clock.now - start, response.head.status.code)
    }
    let kinds: [(name: String, path: String, form: @Sendable (Int) -> [(String, String)])] = [
        ("sign-in, known address, wrong password", "/auth/callback/password", { _ in [("email", "known@example.com"), ("password", "not the password at all")] }),
        ("sign-in, unknown address", "/auth/callback/password", { _ in [("email", "nobody@example.com"), ("password", "not the password at all")] }),
        ("sign-in, known address without a password", "/auth/callback/password", { _ in [("email", "oauth@example.com"), ("password", "not the password at all")] }),
        ("sign-up, known address", "/auth/password/signup", { _ in [("email", "known@example.com"), ("password", "a new password for this")] }),
        ("sign-up, new address", "/auth/password/signup", { i in [("email", "new\(i)@example.com"), ("password", "a new password for this")] }),
        ("forgot, known address", "/auth/password/forgot", { _ in [("email", "known@example.com")] }),
        ("forgot, unknown address", "/auth/password/forgot", { _ in [("email", "nobody@example.com")] }),
    ]
    var times = [[Double]](repeating: [], count: kinds.count), statuses = [Set<Int>](repeating: [], count: kinds.count)
    for sample in 0...samples {
        // A new order each sample: what ran just before (a hash that evicted the caches, or a request like it)
        // must not favour one member of a pair.
        var generator = SplitMix(seed: UInt64(sample))
        let order = Array(kinds.indices).shuffled(using: &generator)
        for index in order {
            let kind = kinds[index]
            let (elapsed, status) = await post(kind.path, kind.form(sample))
            if sample > 0 { times[index].append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) }  // sample 0 warms up
            statuses[index].insert(status)
        }
    }
    print("Known vs unknown addresses: the password provider's answers through the handler, scrypt N = 2^17, \(samples) samples each, interleaved")
    print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; date: \(ISO8601DateFormatter().string(from: Date()))\n")
    print("| request | status | median µs | min–max µs |")
    print("|---|---|---:|---|")
    for (index, kind) in kinds.enumerated() {
        let sorted = times[index].sorted()
        print("| \(kind.name) | \(statuses[index].sorted().map(String.init).joined(separator: ", ")) | \(String(format: "%.0f", median(sorted))) | \(String(format: "%.0f–%.0f", sorted.first!, sorted.last!)) |")
    }
    func ratio(_ a: Int, _ b: Int) -> String { String(format: "%.3f", median(times[a]) / median(times[b])) }
    print("\nunknown ÷ known-wrong sign-in: \(ratio(1, 0)); no-password ÷ known-wrong sign-in: \(ratio(2, 0)); new ÷ known sign-up: \(ratio(4, 3)); unknown ÷ known forgot: \(ratio(6, 5))")
    exit(0)
}
if arguments.first == "passwords" {
    // `passwords SECONDS ROUNDS`: password verification (ScryptPasswordHasher.verify at OWASP's parameters, through
    // its hashing queue) against raw scrypt (KDF.Scrypt.deriveKey with the same parameters, password and salt
    // length), with as many callers as processors, alternating round by round. Target: Sesame ÷ raw ≥ 0.95.
    let seconds = arguments.dropFirst().first.flatMap(Double.init) ?? 5
    let rounds = arguments.dropFirst(2).first.flatMap(Int.init) ?? 3
    let tasks = ProcessInfo.processInfo.activeProcessorCount
    let password = "correct horse battery staple"
    let hasher = ScryptPasswordHasher()
    let stored = try await hasher.hash(password)
    let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
    var raw: [Double] = [], sesame: [Double] = [], ratios: [Double] = []
    for _ in 0..<rounds {
        let rawRate = try await throughput(tasks: tasks, seconds: seconds) {
            _ = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << 17, blockSize: 8, parallelism: 1)
        }
        let sesameRate = try await throughput(tasks: tasks, seconds: seconds) {
            guard case .valid = try await hasher.verify(password, against: stored) else { fatalError("the password did not verify") }
        }
        raw.append(rawRate)
        sesame.append(sesameRate)
        ratios.append(sesameRate / rawRate)
    }
    print("Password verification, scrypt N = 2^17, r = 8, p = 1, \(tasks) callers, \(seconds) s per cell, median of \(rounds) rounds")
    print("")
    print("| raw scrypt (/s) | ScryptPasswordHasher.verify (/s) | Sesame ÷ raw |")
    print("|---:|---:|---:|")
    print("| \(String(format: "%.2f", median(raw))) | \(String(format: "%.2f", median(sesame))) | \(String(format: "%.3f×", median(ratios))) |")
    exit(0)
}
if arguments.first == "totp" {
    // `totp SECONDS ROUNDS`: TOTPFactor.verify of the current code (a 6-digit string checked against the step's
    // HMAC-SHA-1) against raw swift-crypto HMAC-SHA-1 of the same 8-byte counter with the same key, one task,
    // alternating round by round. Target: Sesame ÷ raw ≥ 0.9.
    let seconds = arguments.dropFirst().first.flatMap(Double.init) ?? 2
    let rounds = arguments.dropFirst(2).first.flatMap(Int.init) ?? 3
    let secret = TOTPFactor.generateSecret()
    let factor = TOTPFactor(secret: secret)
    let key = SymmetricKey(data: secret)
    let now = Date()
    let code = factor.code(at: now)
    let counter = withUnsafeBytes(of: UInt64(now.timeIntervalSince1970 / 30).bigEndian) { Array($0) }
    var raw: [Double] = [], sesame: [Double] = [], ratios: [Double] = []
    for _ in 0..<rounds {
        let rawRate = try await throughput(tasks: 1, seconds: seconds) {
            _ = HMAC<Crypto.Insecure.SHA1>.authenticationCode(for: counter, using: key)
        }
        let sesameRate = try await throughput(tasks: 1, seconds: seconds) {
            guard factor.verify(code, at: now, after: nil) != nil else { fatalError("the code did not verify") }
        }
        raw.append(rawRate)
        sesame.append(sesameRate)
        ratios.append(sesameRate / rawRate)
    }
    print("TOTP verification, one task, \(seconds) s per cell, median of \(rounds) rounds")
    print("")
    print("| raw HMAC-SHA-1 (/s) | TOTPFactor.verify (/s) | Sesame ÷ raw |")
    print("|---:|---:|---:|")
    print("| \(format(median(raw))) | \(format(median(sesame))) | \(String(format: "%.2f×", median(ratios))) |")
    exit(0)
}
if arguments.first == "passkeys" {
    try await PasskeyBenchmark.run(count: arguments.dropFirst().first.flatMap(Int.init) ?? 5000, rounds: arguments.dropFirst(2).first.flatMap(Int.init) ?? 3)
    exit(0)
}
if arguments.first == "cpu" {
    // `cpu SECONDS ROUNDS`: scaling measured in CPU time, which a shared VM's stolen cycles do not distort: for
    // raw swift-crypto and Sesame's session path, operations per CPU-second of the process with 1 and with 2
    // tasks. Work that shares nothing does as many operations per CPU-second with 2 tasks as with 1 (efficiency
    // 1.0); contention between cores (locks, atomics on shared cache lines) costs CPU time and shows as < 1.0.
    let seconds = arguments.dropFirst().first.flatMap(Double.init) ?? 2
    let rounds = arguments.dropFirst(2).first.flatMap(Int.init) ?? 3
    func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    func perCPUSecond(tasks: Int, _ body: @escaping @Sendable () async throws -> Void) async throws -> Double {
        let cpuBefore = cpuSeconds(), wall = ContinuousClock.now
        let rate = try await throughput(tasks: tasks, seconds: seconds, body)
        let elapsed = ContinuousClock.now - wall
        let operations = rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return operations / (cpuSeconds() - cpuBefore)
    }
    print("Scaling from 1 to 2 tasks in CPU time (operations per CPU-second), \(seconds) s per cell, median of \(rounds) rounds")
    print("")
    print("| token | raw, 1 task | raw, 2 tasks | raw efficiency | session, 1 task | session, 2 tasks | session efficiency | session ÷ raw efficiency |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for algorithm in [KeyAlgorithm.es256, .edDSA, .rs256, .hs256, .a256gcm] {
        let benchmarkCase = try await makeCase(algorithm)
        let raw = benchmarkCase.raw, sessions = benchmarkCase.sesame, token = benchmarkCase.token
        var cells: [[Double]] = Array(repeating: [], count: 4)
        for _ in 0..<rounds {
            cells[0].append(try await perCPUSecond(tasks: 1) { try raw() })
            cells[1].append(try await perCPUSecond(tasks: 2) { try raw() })
            cells[2].append(try await perCPUSecond(tasks: 1) { _ = try await sessions.verify(token) })
            cells[3].append(try await perCPUSecond(tasks: 2) { _ = try await sessions.verify(token) })
        }
        let (raw1, raw2, session1, session2) = (median(cells[0]), median(cells[1]), median(cells[2]), median(cells[3]))
        let (rawEfficiency, sessionEfficiency) = (raw2 / raw1, session2 / session1)
        print("| \(benchmarkCase.name) | \(format(raw1)) | \(format(raw2)) | \(String(format: "%.2f", rawEfficiency)) | \(format(session1)) | \(format(session2)) | \(String(format: "%.2f", sessionEfficiency)) | \(String(format: "%.2f×", sessionEfficiency / rawEfficiency)) |")
    }
    exit(0)
}
let secondsPerMeasurement = arguments.first.flatMap(Double.init) ?? 1.0
let rounds = arguments.dropFirst().first.flatMap(Int.init) ?? 3
let concurrencies = [1, 2]

/// Runs `body` in `tasks` concurrent tasks for about `seconds`, and returns operations per second.
func throughput(tasks: Int, seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<tasks {
            group.addTask {
                var count = 0
                while clock.now < deadline {
                    for _ in 0..<16 { try await body() }
                    count += 16
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = clock.now - start
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}


func format(_ value: Double) -> String {
    if value >= 100_000 { return String(format: "%.0fk", value / 1000) }
    if value >= 10_000 { return String(format: "%.1fk", value / 1000) }
    return String(format: "%.0f", value)
}

func segment(_ token: String, _ index: Int) -> [UInt8] {
    Base64URLText.decode(token.split(separator: ".", omittingEmptySubsequences: false)[index])!
}

func member(_ key: Sesame.JWK, _ name: String) throws -> String {
    try key.jsonObject(includingPrivate: true)[name]!.stringValue!
}

struct Case {
    let name: String
    let token: String
    let keys: KeySet
    let sesame: SessionTokens<AppSession>
    let raw: @Sendable () throws -> Void
    let jwtKit: JWTKeyCollection?
}

func makeCase(_ algorithm: KeyAlgorithm) async throws -> Case {
    let key = try Sesame.JWK.generate(algorithm)
    let format: TokenFormat = algorithm.isSigning ? .signed : .encrypted
    let sessions = try SessionTokens<AppSession>(
        keys: KeySet(activeKey: key), configuration: SessionConfiguration(format: format, cacheCapacity: 0))
    let token = try sessions.create(.user(userID: "123", tenantID: nil))
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
    let collection = JWTKeyCollection()
    let kid = JWKIdentifier(string: key.keyID)
    let raw: @Sendable () throws -> Void
    struct Invalid: Error {}
    switch algorithm {
    case .es256:
        let publicKey = try P256.Signing.PublicKey(rawRepresentation: Base64URLText.decode(member(key, "x"))! + Base64URLText.decode(member(key, "y"))!)
        let signature = segment(token, 2)
        raw = {
            let parsed = try P256.Signing.ECDSASignature(rawRepresentation: signature)
            guard publicKey.isValidSignature(parsed, for: signingInput) else { throw Invalid() }
        }
        try await collection.add(ecdsa: ES256PublicKey(backing: publicKey), kid: kid)
    case .edDSA:
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: Base64URLText.decode(member(key, "x"))!)
        let signature = segment(token, 2)
        raw = { guard publicKey.isValidSignature(signature, for: signingInput) else { throw Invalid() } }
        try await collection.add(eddsa: EdDSA.PublicKey(x: member(key, "x"), curve: .ed25519), kid: kid)
    case .rs256:
        let publicKey = try _RSA.Signing.PublicKey(pemRepresentation: key.publicKey!.pemRepresentation!)
        let signature = segment(token, 2)
        raw = {
            guard publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
            else { throw Invalid() }
        }
        try await collection.add(rsa: Insecure.RSA.PublicKey(backing: publicKey), digestAlgorithm: .sha256, kid: kid)
    case .hs256:
        let secret = SymmetricKey(data: Base64URLText.decode(try member(key, "k"))!)
        let signature = segment(token, 2)
        raw = { guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: secret) else { throw Invalid() } }
        await collection.add(hmac: HMACKey(key: secret), digestAlgorithm: .sha256, kid: kid)
    default:  // A256GCM JWE: the raw limit is AES-GCM open of the same ciphertext with the same AAD.
        let secret = SymmetricKey(data: Base64URLText.decode(try member(key, "k"))!)
        let additionalData = Array(parts[0].utf8)
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: segment(token, 2)), ciphertext: segment(token, 3), tag: segment(token, 4))
        raw = { _ = try AES.GCM.open(box, using: secret, authenticating: additionalData) }
        return Case(name: "JWE dir+A256GCM", token: token, keys: sessions.keys, sesame: sessions, raw: raw, jwtKit: nil)
    }
    return Case(name: algorithm.name, token: token, keys: sessions.keys, sesame: sessions, raw: raw, jwtKit: collection)
}

// MARK: Run

var hostname = [CChar](repeating: 0, count: 256)
gethostname(&hostname, 255)
let cpuModel = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
print("Sesame session-token verification benchmark")
print("machine: \(cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores; date: \(ISO8601DateFormatter().string(from: Date()))")
print("measurement: \(secondsPerMeasurement) s per cell, \(rounds) rounds in alternating order; throughputs are medians, ratios are medians of per-round ratios\n")

var cases: [Case] = []
for algorithm in [KeyAlgorithm.es256, .edDSA, .rs256, .hs256, .a256gcm] {
    cases.append(try await makeCase(algorithm))
}
// Sanity: every implementation accepts every token before anything is timed.
for benchmarkCase in cases {
    try benchmarkCase.raw()
    _ = try await benchmarkCase.sesame.verify(benchmarkCase.token)
    if let collection = benchmarkCase.jwtKit { _ = try await collection.verify(benchmarkCase.token, as: JWTKitSessionPayload.self) }
}

print("| token | tasks | raw swift-crypto (/s) | Sesame JWT.verify (/s) | Sesame session (/s) | jwt-kit 5.8 (/s) | JWT ÷ raw | session ÷ raw | jwt-kit ÷ raw | JWT ÷ jwt-kit | session ÷ jwt-kit |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
var es256MissPath: [Int: Double] = [:]
for benchmarkCase in cases {
    for tasks in concurrencies {
        var rawRuns: [Double] = [], jwtRuns: [Double] = [], sesameRuns: [Double] = [], jwtKitRuns: [Double] = []
        for round in 0..<rounds {
            let raw = benchmarkCase.raw
            let sessions = benchmarkCase.sesame, token = benchmarkCase.token, keys = benchmarkCase.keys
            // Alternate the order round by round, so that drift on a shared machine hits every column alike.
            let columns = benchmarkCase.jwtKit == nil ? [0, 1, 2] : [0, 1, 2, 3]
            for column in round % 2 == 0 ? columns : columns.reversed() {
                switch column {
                case 0: rawRuns.append(try await throughput(tasks: tasks, seconds: secondsPerMeasurement) { try raw() })
                case 1: jwtRuns.append(try await throughput(tasks: tasks, seconds: secondsPerMeasurement) { _ = try JWT.verify(token, keys: keys) })
                case 2: sesameRuns.append(try await throughput(tasks: tasks, seconds: secondsPerMeasurement) { _ = try await sessions.verify(token) })
                default:
                    let collection = benchmarkCase.jwtKit!
                    jwtKitRuns.append(try await throughput(tasks: tasks, seconds: secondsPerMeasurement) {
                        _ = try await collection.verify(token, as: JWTKitSessionPayload.self)
                    })
                }
            }
        }
        // Ratios are taken round by round (each pair measured back to back), then the median of those.
        func pairedRatio(_ a: [Double], _ b: [Double]) -> Double { median(zip(a, b).map { $0 / $1 }) }
        let raw = median(rawRuns), jwt = median(jwtRuns), sesame = median(sesameRuns)
        if benchmarkCase.name == "ES256" { es256MissPath[tasks] = sesame }
        func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }
        if jwtKitRuns.isEmpty {
            print("| \(benchmarkCase.name) | \(tasks) | \(format(raw)) | \(format(jwt)) | \(format(sesame)) | n/a (no JWE) | \(ratio(pairedRatio(jwtRuns, rawRuns))) | \(ratio(pairedRatio(sesameRuns, rawRuns))) | n/a | n/a | n/a |")
        } else {
            let jwtKit = median(jwtKitRuns)
            print("| \(benchmarkCase.name) | \(tasks) | \(format(raw)) | \(format(jwt)) | \(format(sesame)) | \(format(jwtKit)) | \(ratio(pairedRatio(jwtRuns, rawRuns))) | \(ratio(pairedRatio(sesameRuns, rawRuns))) | \(ratio(pairedRatio(jwtKitRuns, rawRuns))) | \(ratio(pairedRatio(jwtRuns, jwtKitRuns))) | \(ratio(pairedRatio(sesameRuns, jwtKitRuns))) |")
        }
    }
}

// MARK: Cache

print("\nVerified-token cache (ES256):")
let cacheKey = try Sesame.JWK.generate(.es256)
let cached = try SessionTokens<AppSession>(keys: KeySet(activeKey: cacheKey))
let hotToken = try cached.create(.user(userID: "123", tenantID: nil))
_ = try await cached.verify(hotToken)
print("| tasks | cache hit (/s) | ES256 miss path (/s) | hit ÷ miss |")
print("|---:|---:|---:|---:|")
for tasks in concurrencies {
    var runs: [Double] = []
    for _ in 0..<rounds {
        runs.append(try await throughput(tasks: tasks, seconds: secondsPerMeasurement) { _ = try await cached.verify(hotToken) })
    }
    let hit = median(runs)
    let miss = es256MissPath[tasks] ?? .nan
    print("| \(tasks) | \(format(hit)) | \(format(miss)) | \(String(format: "%.1f×", hit / miss)) |")
}

// A workload: 1,000 users, each session verified on 50 requests, in random order.
let workload = try SessionTokens<AppSession>(keys: KeySet(activeKey: cacheKey))
var requests: [String] = []
for user in 0..<1000 {
    let token = try workload.create(.user(userID: "user-\(user)", tenantID: nil))
    requests.append(contentsOf: repeatElement(token, count: 50))
}
requests.shuffle()
for token in requests { _ = try await workload.verify(token) }
let statistics = workload.cacheStatistics
print("\ncache hit rate, 1,000 sessions × 50 requests in random order: \(String(format: "%.1f%%", statistics.hitRate * 100)) (\(statistics.hits) hits, \(statistics.misses) misses)")

// MARK: Size

let sizeKey = try Sesame.JWK.generate(.es256)
let sizer = try SessionTokens<AppSession>(keys: KeySet(activeKey: sizeKey))
let typical = try sizer.create(.user(userID: "123", tenantID: nil))
let uuidUser = try sizer.create(.user(userID: UUID().uuidString.lowercased(), tenantID: nil))
let tenantUser = try sizer.create(.user(userID: UUID().uuidString.lowercased(), tenantID: "acme"))
print("\nES256 session token size: user(userID: \"123\") \(typical.utf8.count) bytes; user(userID: <UUID>) \(uuidUser.utf8.count) bytes; user(userID: <UUID>, tenantID: \"acme\") \(tenantUser.utf8.count) bytes")
