import BenchmarkSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Sesame
import SesameDemo
import SesameHummingbird

// HTTP throughput of the demo's protected JSON route (`GET /api/me`, Sesame's session middleware and guard,
// a valid ES256 session cookie) against its twin without Sesame (`GET /bench/plain`, the same rendering of a
// session verified once at start-up), measured with wrk on loopback in one run, interleaved round by round.
// Usage: swift run -c release --package-path Benchmarks sesame-http-benchmark [seconds-per-round] [rounds] [connections]

let load = LoadArguments()
let seconds = load.seconds, rounds = load.rounds, connections = load.connections
requireWrk()

func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}

/// Waits (up to 10 s) until the server on `port` accepts connections.
func waitUntilListening(port: Int) async throws {
    for _ in 0..<100 {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
            try await channel.close()
            return
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// The processor's model name, for the report.
func cpuModel() -> String {
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
        .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
}

/// Runs wrk and returns requests per second, after checking that every response was a success.
func wrk(_ url: String, cookie: String?) throws -> Double {
    try wrkRate(url, connections: connections, seconds: seconds, options: ["--latency"] + (cookie.map { ["-H", "Cookie: \($0)"] } ?? []))
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let port = try await freePort()
let keys = try KeySet(activeKey: JWK.generate(.es256))
// `--password-load`: the same protected route, idle and while 64 clients sign in with a password as fast as they can
// (the rate limits lifted, so that every attempt reaches the hashing queue).
let passwordLoad = CommandLine.arguments.contains("--password-load")
let unlimited = MemoryRateLimiter(capacity: 1 << 40, refillInterval: 1e-9)
let demo = try Demo(
    configuration: DemoConfiguration(port: port, isDevelopment: false), keys: keys, logger: logger,
    passwordConfiguration: passwordLoad ? PasswordAccounts.Configuration(perAddress: unlimited, perClient: unlimited) : PasswordAccounts.Configuration())
let token = try demo.sessions.create(.user(email: "bench@example.com"))
let session = try await demo.sessions.verify(token)
let base = "http://127.0.0.1:\(port)"

if CommandLine.arguments.contains("--parts") {
  try await Task.detached {
    // Per-request costs of Sesame's parts, in one task (off the main actor, like request handlers).
    var head = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: "/api/me")
    head.headerFields[.cookie] = "sesame-session=\(token)"
    head.headerFields[.userAgent] = "wrk"
    func time(_ label: String, _ n: Int = 200_000, _ body: () async throws -> Void) async rethrows {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<n { try await body() }
        let elapsed = clock.now - start
        print(label, Double(elapsed.components.attoseconds) / 1e9 / Double(n) + Double(elapsed.components.seconds) * 1e9 / Double(n), "ns")
    }
    await time("token(from:)") { _ = demo.sessions.token(from: SessionCredentials(head)) }
    try await time("verify (cache hit)", CommandLine.arguments.contains("--long") ? 5_000_000 : 200_000) { _ = try await demo.sessions.verify(token) }
    await time("resolve") { _ = await demo.sessions.resolve(head) }
    let resolution = await demo.sessions.resolve(head)
    await time("withCurrent + AuthSession.current") { _ = await SessionScope(resolution).run { @Sendable in AuthSession<DemoSession>.current } }
    await time("TaskLocal<Int>.withValue") { await Probe.$value.withValue(1) { @Sendable in _ = Probe.value } }
    let box = Probe.Box()
    await time("TaskLocal<AnyObject>.withValue") { await Probe.$object.withValue(box) { @Sendable in _ = Probe.object as? Probe.Box } }
    await time("AuthSession.current outside") { _ = AuthSession<DemoSession>.current }
    let tokenBytes = Array(token.utf8)
    await time("SHA256 of the token") { _ = SHA256.hash(data: tokenBytes) }
    let revocations = MemoryRevocationStore()
    try await time("revocation check (empty store)") { _ = try await revocations.isRevoked(tokenID: "abc", subject: "user:x", issuedAt: Date()) }
  }.value
  exit(0)
}

enum Probe {
    @TaskLocal static var value: Int?
    @TaskLocal static var object: (any AnyObject & Sendable)?
    final class Box: Sendable {}
}

struct PassThrough<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.logger.logLevel = .error
        return try await next(request, context)
    }
}

/// A pass-through middleware that also makes a fixed session current (the task-local part of Sesame's middleware).
struct CurrentOnly<Context: RequestContext>: RouterMiddleware {
    let session: AuthSession<DemoSession>
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await AuthSession.withCurrent(session) { try await next(request, context) }
    }
}

/// A pass-through middleware that also sets the context's identity (the context part of Sesame's middleware).
struct IdentityOnly<Context: SesameRequestContext>: RouterMiddleware where Context.Subject == DemoSession {
    let session: AuthSession<DemoSession>
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.identity = session
        return try await next(request, context)
    }
}

if CommandLine.arguments.contains("--breakdown") {
    // Where the time goes: the same rendering behind no middleware, a pass-through middleware, and Sesame's.
    let router = Router(context: BasicSesameRequestContext<DemoSession>.self)
    router.get("/plain") { _, _ in DemoAPI.render(session) }
    router.group("noop").add(middleware: PassThrough()).get("r") { _, _ in DemoAPI.render(session) }
    router.group("current").add(middleware: CurrentOnly(session: session)).get("r") { _, _ in DemoAPI.render(AuthSession<DemoSession>.current ?? session) }
    router.group("identity").add(middleware: IdentityOnly(session: session)).get("r") { _, _ in DemoAPI.render(session) }
    router.group("optional").add(middleware: SesameSessionMiddleware(sessions: demo.sessions)).get("r") { _, _ in DemoAPI.render(AuthSession<DemoSession>.current ?? session) }
    router.group("required").add(middleware: SesameSessionMiddleware(sessions: demo.sessions, requirement: SessionRequirement())).get("r") { _, _ in DemoAPI.render(session) }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        try await Task.sleep(for: .seconds(1))
        for path in ["/plain", "/noop/r", "/current/r", "/identity/r", "/optional/r", "/required/r", "/plain", "/noop/r", "/current/r", "/identity/r", "/optional/r"] {
            print(path, Int(try wrk(base + path, cookie: "sesame-session=\(token)")))
        }
        group.cancelAll()
    }
    exit(0)
}

if passwordLoad {
    // A verified user with a password, and a CSRF token with its cookie, from the handler itself.
    let email = "load@example.com", password = "a password for the load benchmark"
    guard case .created(_, let verification) = try await demo.passwords.signUp(email: email, password: password, client: nil) else { fatalError("sign-up") }
    _ = try await demo.passwords.verifyEmail(email, code: verification.code)
    let csrf = await demo.auth.handle(AuthRequest(head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:\(port)", path: "/auth/csrf")))
    guard let csrfToken = (try JSONValue(parsing: csrf.body))["csrfToken"]?.stringValue,
        let csrfCookie = csrf.head.headerFields[values: .setCookie].first.map({ String($0.prefix { $0 != ";" }) })
    else { fatalError("no CSRF token") }
    let body = URLEncodedForm([(name: "csrfToken", value: csrfToken), (name: "email", value: email), (name: "password", value: password)]).encoded
    // Two kinds of flood: clients that honour the 503's `Retry-After: 1` (what a sign-in form or an SDK does; this
    // is what keeps the hashing queue full), and clients that ignore it and resend at once (a request flood, whose
    // cheap refusals compete with the protected route as any other requests would).
    let honours = !CommandLine.arguments.contains("--ignore-retry-after")
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-signin-\(port).lua")
    try """
        wrk.method = "POST"
        wrk.body = "\(body)"
        wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
        wrk.headers["Cookie"] = "\(csrfCookie)"
        wrk.headers["Origin"] = "\(base)"
        wrk.headers["Sec-Fetch-Site"] = "same-origin"
        wrk.headers["Accept"] = "application/json"
        local honours = \(honours)
        local wait = 0
        function delay() return wait end
        local threads = {}
        function setup(thread) table.insert(threads, thread) end
        function init(args) statuses = {} end
        function response(status, headers, body)
            statuses[status] = (statuses[status] or 0) + 1
            if honours and status == 503 then wait = 1000 * tonumber(headers["Retry-After"] or "1") else wait = 0 end
            if status >= 300 and status < 400 and not location then location = headers["Location"] end
        end
        function done(summary, latency, requests)
            for _, thread in ipairs(threads) do
                for status, count in pairs(thread:get("statuses")) do io.write("status " .. status .. " " .. count .. "\\n") end
                io.write("first redirect " .. tostring(thread:get("location")) .. "\\n")
            end
        end
        """.write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    // One sign-in through the handler with the flood's exact request: it must sign in (a redirect with a session).
    var probe = HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1:\(port)", path: "/auth/callback/password")
    for (name, value) in [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", csrfCookie), ("Origin", base), ("Sec-Fetch-Site", "same-origin"), ("Accept", "application/json")] {
        probe.headerFields[HTTPField.Name(name)!] = value
    }
    let probed = await demo.auth.handle(AuthRequest(head: probe, body: Array(body.utf8), clientAddress: "127.0.0.1"))
    guard probed.head.headerFields[values: .setCookie].contains(where: { $0.hasPrefix("sesame-session=") }) else {
        fatalError("the flood's request does not sign in: \(probed.head.status) \(probed.head.headerFields[.location] ?? "")")
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await demo.application(benchmarkSession: session).runService() }
        try await waitUntilListening(port: port)
        var idle: [Double] = [], loaded: [Double] = [], signIns: [String] = []
        for _ in 0..<rounds {
            idle.append(try wrk(base + "/api/me", cookie: "sesame-session=\(token)"))
            // The flood starts first and outlasts the measurement of the protected route.
            let flood = Task.detached { try runCommand(["wrk", "-t", "1", "-c", "64", "-d", "\(seconds + 2)s", "-s", script.path, base + "/auth/callback/password"]) }
            try await Task.sleep(for: .milliseconds(700))
            loaded.append(try wrk(base + "/api/me", cookie: "sesame-session=\(token)"))
            let output = try await flood.value
            let lines = output.split(separator: "\n")
            let total = lines.first { $0.contains(" requests in ") }.map { String($0.split(separator: " ").first!) } ?? "?"
            let statuses = lines.filter { $0.hasPrefix("status ") || $0.hasPrefix("first redirect") }.joined(separator: "; ")
            signIns.append("\(total) sign-in requests in \(seconds + 2) s (\(statuses))")
        }
        let i = median(idle), l = median(loaded)
        print("Sesame password-load benchmark: GET /api/me with wrk (\(connections) connections, \(seconds) s), idle and while 64 clients sign in with a password (scrypt N=2^17, clients \(honours ? "honouring" : "ignoring") Retry-After), median of \(rounds) rounds")
        print("machine: \(cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; date: \(ISO8601DateFormatter().string(from: Date()))\n")
        print("| `GET /api/me` | requests/s (median) | all rounds |")
        print("|---|---:|---|")
        print("| idle | \(Int(i)) | \(idle.map { String(Int($0)) }.joined(separator: ", ")) |")
        print("| during the sign-in flood | \(Int(l)) | \(loaded.map { String(Int($0)) }.joined(separator: ", ")) |")
        for line in signIns { print("flood: \(line)") }
        print("\nloaded ÷ idle: \(String(format: "%.2f×", l / i)) (target ≥ 0.5×)")
        group.cancelAll()
    }
    exit(0)
}

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await demo.application(benchmarkSession: session).runService() }
    try await waitUntilListening(port: port)
    var protected: [Double] = [], plain: [Double] = []
    for _ in 0..<rounds {
        // Both routes get the same request, cookie included: only what Sesame does differs.
        plain.append(try wrk(base + "/bench/plain", cookie: "sesame-session=\(token)"))
        protected.append(try wrk(base + "/api/me", cookie: "sesame-session=\(token)"))
    }
    let p = plain.sorted()[plain.count / 2], s = protected.sorted()[protected.count / 2]
    print("Sesame HTTP benchmark: wrk on loopback, \(connections) connections, \(seconds) s per round, median of \(rounds) interleaved rounds")
    print("machine: \(cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; date: \(ISO8601DateFormatter().string(from: Date()))\n")
    print("| route | requests/s (median) | all rounds |")
    print("|---|---:|---|")
    print("| `GET /bench/plain` (no Sesame, same request) | \(Int(p)) | \(plain.map { String(Int($0)) }.joined(separator: ", ")) |")
    print("| `GET /api/me` (session middleware + guard, ES256 cookie) | \(Int(s)) | \(protected.map { String(Int($0)) }.joined(separator: ", ")) |")
    print("\nprotected ÷ plain: \(String(format: "%.2f×", s / p))")
    group.cancelAll()
}
