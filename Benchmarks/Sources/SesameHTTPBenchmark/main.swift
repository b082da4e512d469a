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

/// Runs wrk and returns requests per second, after checking that every response was a success.
func wrk(_ url: String, cookie: String?) throws -> Double {
    try wrkRate(url, connections: connections, seconds: seconds, options: ["--latency"] + (cookie.map { ["-H", "Cookie: \($0)"] } ?? []))
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let port = try await freePort()
let keys = try KeySet(activeKey: JWK.generate(.es256))
let demo = try Demo(configuration: DemoConfiguration(port: port, isDevelopment: false), keys: keys, logger: logger)
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

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await demo.application(benchmarkSession: session).runService() }
    // Wait until the server accepts connections.
    for _ in 0..<100 {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
            try await channel.close()
            break
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    var protected: [Double] = [], plain: [Double] = []
    for _ in 0..<rounds {
        // Both routes get the same request, cookie included: only what Sesame does differs.
        plain.append(try wrk(base + "/bench/plain", cookie: "sesame-session=\(token)"))
        protected.append(try wrk(base + "/api/me", cookie: "sesame-session=\(token)"))
    }
    let p = plain.sorted()[plain.count / 2], s = protected.sorted()[protected.count / 2]
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
        .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    print("Sesame HTTP benchmark: wrk on loopback, \(connections) connections, \(seconds) s per round, median of \(rounds) interleaved rounds")
    print("machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; date: \(ISO8601DateFormatter().string(from: Date()))\n")
    print("| route | requests/s (median) | all rounds |")
    print("|---|---:|---|")
    print("| `GET /bench/plain` (no Sesame, same request) | \(Int(p)) | \(plain.map { String(Int($0)) }.joined(separator: ", ")) |")
    print("| `GET /api/me` (session middleware + guard, ES256 cookie) | \(Int(s)) | \(protected.map { String(Int($0)) }.joined(separator: ", ")) |")
    print("\nprotected ÷ plain: \(String(format: "%.2f×", s / p))")
    group.cancelAll()
}
