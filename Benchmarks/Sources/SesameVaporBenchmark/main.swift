import BenchmarkSupport
import Foundation
import Logging
import HTTPTypes
import Sesame
import SesameDemo
import SesameVapor
import Vapor

// The protected JSON route on Vapor 4, measured with wrk on loopback in one run, in rounds of plain, Sesame, Sesame,
// plain (an ABBA block, whose ratio a steady drift of the machine's speed does not move), then Vapor sessions:
//   plain           the same rendering of a session verified once at start-up, no session middleware;
//   Sesame          SesameSessionMiddleware with a requirement (ES256 session cookie, verified-token cache,
//                   revocation check, req.auth, task-local), the route reading AuthSession.current;
//   Vapor sessions  Vapor's own SessionsMiddleware with its memory driver, the route reading req.session.data.
// Every route gets the same request shape (one cookie; with SESAME_BENCH_SESSIONS=N, N signed-in sessions take
// turns, as many browsers would), after a 2 s warm-up of each. Targets: Sesame ≥ 0.9× plain,
// ≥ 1.0× Vapor sessions.
// With SESAME_BENCH_STAGES=1 it measures instead where the difference from plain goes, adding the middleware's
// work in stages (each a route of its own, order alternating by round), as ratios of plain in the same round, next
// to two calibration routes whose middleware only busy-waits 1 µs or 3 µs on the event loop.
// Usage: swift run -c release --package-path Benchmarks sesame-vapor-benchmark [seconds-per-wrk-run] [rounds] [connections]

let load = LoadArguments()
let seconds = load.seconds, rounds = load.rounds, connections = load.connections
requireWrk()

/// One wrk run (its rate, and this process's CPU time per request: the server's), after checking that every
/// response was a success. With several cookies, a Lua script sends them in turn (as many signed-in browsers would).
func wrk(_ url: String, cookies: [String], duration: Int = seconds) throws -> WrkResult {
    var options: [String] = []
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-vapor-bench-" + UUID().uuidString)
    defer { try? FileManager.default.removeItem(at: directory) }
    if cookies.count == 1 {
        options += ["-H", "Cookie: \(cookies[0])"]
    } else {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let list = directory.appendingPathComponent("cookies.txt"), script = directory.appendingPathComponent("cookies.lua")
        try cookies.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        try """
            local cookies = {}
            for line in io.lines("\(list.path)") do cookies[#cookies + 1] = line end
            local turn = 0
            request = function()
                turn = turn % #cookies + 1
                return wrk.format("GET", nil, { ["Cookie"] = cookies[turn] })
            end
            """.write(to: script, atomically: true, encoding: .utf8)
        options += ["-s", script.path]
    }
    return try wrkRun(url, connections: connections, seconds: duration, options: options)
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let keys = try KeySet(activeKey: JWK.generate(.es256))
let demo = try Demo(configuration: DemoConfiguration(port: 0, isDevelopment: false), keys: keys, logger: logger)
let token = try demo.sessions.create(.user(email: "bench@example.com"))
let session = try await demo.sessions.verify(token)
// SESAME_BENCH_SESSIONS signed-in sessions take turns (default 1: one cookie on every request; with more, a wrk Lua
// script rotates them, which costs wrk some speed).
let sessionCount = max(1, ProcessInfo.processInfo.environment["SESAME_BENCH_SESSIONS"].flatMap(Int.init) ?? 1)
var sesameCookies = ["sesame-session=\(token)"]
for index in 1..<sessionCount {
    sesameCookies.append("sesame-session=" + (try demo.sessions.create(.user(email: "bench\(index)@example.com"))))
}

let app = try await Application.make(.production)
app.logger.logLevel = .error
app.middleware = Middlewares()
app.sessions.use(.memory)
app.get("bench", "plain") { _ async in Response(DemoAPI.json(session)) }
app.grouped(SesameSessionMiddleware(sessions: demo.sessions, requirement: SessionRequirement()))
    .get("api", "me") { _ async in Response(DemoAPI.meResponse()) }
/// The middleware's work in stages, for SESAME_BENCH_STAGES: the task-local only; plus reading the credentials; plus
/// finding the token; plus verifying it; the same through `resolve` (the `now` answer); plus `req.auth.login` (the
/// route then reads `AuthSession.current`).
/// The credentials of a Vapor request, in one pass over its headers (as SesameVapor reads them).
func vaporCredentials(of request: Request) -> SessionCredentials {
    var authorization: String? = nil
    var cookies: [String] = []
    for (name, value) in request.headers {
        if name.lowercased() == "cookie" { cookies.append(value) } else if name.lowercased() == "authorization" { authorization = value }
    }
    return SessionCredentials(authorization: authorization, cookies: cookies)
}
struct StageMiddleware: Middleware {
    enum Stage { case current, head, token, verify, resolve, login }
    let stage: Stage
    let sessions: SessionTokens<DemoSession>
    let session: AuthSession<DemoSession>
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        var current = SessionResolution(session: session, failure: nil, responseFields: [])
        if stage != .current {
            let credentials = vaporCredentials(of: request)
            switch stage {
            case .current, .head:
                guard !credentials.cookies.isEmpty else { fatalError("no cookie") }
            case .token:
                guard sessions.token(from: credentials) != nil else { fatalError("no token") }
            case .verify:
                guard let token = sessions.token(from: credentials), case .now(.success(let verified)) = sessions.verification(token) else { fatalError("no session") }
                current = SessionResolution(session: verified, failure: nil, responseFields: [])
            case .resolve, .login:
                guard case .now(let resolution) = sessions.resolve(credentials), let resolved = resolution.session else { fatalError("no session") }
                if stage == .login { request.auth.login(resolved) }
                current = resolution
            }
        }
        return SessionScope(current).run { next.respond(to: request) }
    }
}
/// For calibration: a fixed amount of busy waiting on the event loop, and nothing else.
struct BusyWaitMiddleware: Middleware {
    let nanoseconds: UInt64
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let end = DispatchTime.now().uptimeNanoseconds + nanoseconds
        while DispatchTime.now().uptimeNanoseconds < end {}
        return next.respond(to: request)
    }
}
for (stage, path) in [(StageMiddleware.Stage.current, "current"), (.head, "head"), (.token, "token"), (.verify, "verify"), (.resolve, "resolve")] {
    app.grouped(StageMiddleware(stage: stage, sessions: demo.sessions, session: session)).get("stage", PathComponent(stringLiteral: path)) { _ async in Response(DemoAPI.json(session)) }
}
for microseconds in [1, 3] {
    app.grouped(BusyWaitMiddleware(nanoseconds: UInt64(microseconds) * 1_000)).get("stage", PathComponent(stringLiteral: "spin\(microseconds)")) { _ async in Response(DemoAPI.json(session)) }
}
// The last stage's route reads the session as /api/me does.
app.grouped(StageMiddleware(stage: .login, sessions: demo.sessions, session: session)).get("stage", "login") { _ async in Response(DemoAPI.meResponse()) }
let vaporSessions = app.grouped(app.sessions.middleware)
vaporSessions.get("vapor", "login") { request async -> String in
    request.session.data["email"] = "bench@example.com"
    return "ok"
}
vaporSessions.get("vapor", "me") { request async -> Response in
    guard let email = request.session.data["email"] else { return Response(status: .unauthorized) }
    // The same JSON shape as the other two routes.
    return Response(AuthResponse.json(["email": .string(email), "session": .string(request.session.id?.string ?? ""), "expiresAt": .integer(Int64(session.expiresAt.timeIntervalSince1970))]))
}
let port = 18_000 + Int.random(in: 0..<1000)
/// Starts and stops Vapor's HTTP server (its async API, from a nonisolated context).
nonisolated func start(_ app: Application, port: Int) async throws { try await app.server.start(address: .hostname("127.0.0.1", port: port)) }
nonisolated func stop(_ app: Application) async { await app.server.shutdown() }
try await start(app, port: port)
let base = "http://127.0.0.1:\(port)"
// SESAME_BENCH_LOOP=1: only time the middleware's steps one by one in a hot loop on this thread (nanoseconds per
// call; under load on the event loop each costs several times as much), then stop.
if ProcessInfo.processInfo.environment["SESAME_BENCH_LOOP"] == "1" {
    let headers: HTTPHeaders = ["Host": "127.0.0.1", "Cookie": sesameCookies[0]]
    let loop = app.eventLoopGroup.next()
    let loopCount = ProcessInfo.processInfo.environment["SESAME_BENCH_LOOP_COUNT"].flatMap(Int.init) ?? 300_000
    func timed(_ name: String, count: Int = loopCount, _ body: () -> Void) {
        for _ in 0..<count / 10 { body() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count { body() }
        print(name.padding(toLength: 40, withPad: " ", startingAt: 0), Int(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)), "ns")
    }
    let request = Request(application: app, method: .GET, url: "/api/me", headers: headers, on: loop)
    let credentials = vaporCredentials(of: request)
    guard let token = demo.sessions.token(from: credentials), case .now(let resolution) = demo.sessions.resolve(credentials) else {
        fatalError("the benchmark's cookie does not resolve")
    }
    /// A responder that answers at once, with one response made in advance.
    struct Answer: Responder {
        let response: Response
        func respond(to request: Request) -> EventLoopFuture<Response> { request.eventLoop.makeSucceededFuture(response) }
    }
    let answer = Answer(response: Response(status: .ok))
    let middleware = SesameSessionMiddleware(sessions: demo.sessions, requirement: SessionRequirement())
    for _ in 0..<3 {
        timed("a Vapor request") { _ = Request(application: app, method: .GET, url: "/api/me", headers: headers, on: loop) }
        timed("a Vapor request and req.auth.login") { Request(application: app, method: .GET, url: "/api/me", headers: headers, on: loop).auth.login(session) }
        timed("SessionCredentials(of:)") { _ = vaporCredentials(of: request) }
        timed("token(from:)") { _ = demo.sessions.token(from: credentials) }
        timed("verification (cached)") { _ = demo.sessions.verification(token) }
        timed("resolve (cached)") { _ = demo.sessions.resolve(credentials) }
        timed("SessionScope.run") { SessionScope(resolution).run { _ = 1 } }
        // The whole middleware on its event loop, in front of a responder that answers at once (a new request each time).
        try loop.submit {
            timed("a request, answered at once") { _ = answer.respond(to: Request(application: app, method: .GET, url: "/api/me", headers: headers, on: loop)) }
            timed("a request, through the middleware") { _ = middleware.respond(to: Request(application: app, method: .GET, url: "/api/me", headers: headers, on: loop), chainingTo: answer) }
        }.wait()
        print()
    }
    exit(0)
}
// SESAME_BENCH_SERVE=1: only serve (for profiling with an outside load generator), printing the port and the
// session cookie, until stopped.
if ProcessInfo.processInfo.environment["SESAME_BENCH_SERVE"] == "1" {
    FileHandle.standardOutput.write(Data("serving on \(base)\nCookie: \(sesameCookies[0])\n".utf8))
    while true { try await Task.sleep(for: .seconds(3600)) }
}

// As many Vapor session cookies, from Vapor's own login route (one curl for all of them).
let logins = try runCommand(["curl", "-s", "-D", "-", "-o", "/dev/null"] + Array(repeating: base + "/vapor/login", count: sessionCount))
let vaporCookies = logins.split(separator: "\r\n").filter { $0.lowercased().hasPrefix("set-cookie:") }.map {
    String($0.dropFirst("set-cookie:".count).drop { $0 == " " }.prefix { $0 != ";" })
}
guard vaporCookies.count == sessionCount else { fatalError("\(vaporCookies.count) Vapor session cookies for \(sessionCount) logins") }

// A short warm-up of each route, not counted.
for (path, cookies) in [("/bench/plain", sesameCookies), ("/api/me", sesameCookies), ("/vapor/me", vaporCookies)] {
    _ = try wrk(base + path, cookies: cookies, duration: 2)
}


if ProcessInfo.processInfo.environment["SESAME_BENCH_STAGES"] == "1" {
    let stages = [
        ("/bench/plain", "plain"), ("/stage/spin1", "1 µs of busy waiting on the event loop, nothing else"), ("/stage/spin3", "3 µs of busy waiting on the event loop, nothing else"),
        ("/stage/current", "+ task-local `AuthSession.current` around the chain"),
        ("/stage/head", "+ the credentials sessions read (one pass over the headers)"),
        ("/stage/token", "+ finding the token in the cookie"),
        ("/stage/verify", "+ verifying it (verified-token cache hit, revocation check)"),
        ("/stage/resolve", "+ the same through `resolve` (the `now` answer) (the resolution the middleware uses)"),
        ("/stage/login", "+ `req.auth.login`, the route reading `AuthSession.current`"),
        ("/api/me", "`SesameSessionMiddleware` + requirement (all of it)"),
    ]
    var ratios: [String: [Double]] = [:], cpu: [String: [Double]] = [:]
    for round in 0..<rounds {
        var rates: [String: Double] = [:]
        for (path, _) in round.isMultiple(of: 2) ? stages : stages.reversed() {
            let result = try wrk(base + path, cookies: sesameCookies)
            rates[path] = result.rate
            cpu[path, default: []].append(result.cpuMicrosecondsPerRequest)
        }
        for (path, _) in stages { ratios[path, default: []].append(rates[path]! / rates["/bench/plain"]!) }
    }
    print("Where the difference from plain goes: \(connections) connections, \(sessionCount) sessions in turn, \(seconds) s per route and round, \(rounds) rounds\n")
    print("| route | ÷ plain, median | all rounds | server CPU µs/request, median |")
    print("|---|---:|---|---:|")
    for (path, label) in stages {
        print("| \(label) | \(String(format: "%.2f×", median(ratios[path]!))) | \(ratios[path]!.map { String(format: "%.2f", $0) }.joined(separator: ", ")) | \(String(format: "%.1f", median(cpu[path]!))) |")
    }
    await stop(app)
    try await app.asyncShutdown()
    exit(0)
}

// Each round runs plain, Sesame, Sesame, plain back to back (an ABBA block: a steady drift of the machine's speed
// cancels out of the round's ratio), then Vapor's sessions.
var runs: [String: [WrkResult]] = [:]
var roundRatios: [Double] = []
for _ in 0..<rounds {
    var block: [Double] = []
    for path in ["/bench/plain", "/api/me", "/api/me", "/bench/plain"] {
        let result = try wrk(base + path, cookies: sesameCookies)
        runs[path, default: []].append(result)
        block.append(result.rate)
    }
    roundRatios.append((block[1] + block[2]) / (block[0] + block[3]))
    runs["/vapor/me", default: []].append(try wrk(base + "/vapor/me", cookies: vaporCookies))
}
let plainRuns = runs["/bench/plain"]!, sesameRuns = runs["/api/me"]!, vaporRuns = runs["/vapor/me"]!
let plain = plainRuns.map(\.rate), sesame = sesameRuns.map(\.rate), vapor = vaporRuns.map(\.rate)
await stop(app)
try await app.asyncShutdown()

let p = median(plain), s = median(sesame), v = median(vapor)
print("Sesame on Vapor: wrk on loopback, \(connections) connections, \(sessionCount) sessions in turn, \(seconds) s per wrk run, \(rounds) rounds of plain, Sesame, Sesame, plain, then Vapor sessions\n")
print("| route | requests/s (median) | all runs |")
print("|---|---:|---|")
print("| `GET /bench/plain` (no session middleware, same request) | \(Int(p)) | \(plain.map { String(Int($0)) }.joined(separator: ", ")) |")
print("| `GET /api/me` (SesameSessionMiddleware + requirement, ES256 cookie) | \(Int(s)) | \(sesame.map { String(Int($0)) }.joined(separator: ", ")) |")
print("| `GET /vapor/me` (Vapor SessionsMiddleware, memory driver) | \(Int(v)) | \(vapor.map { String(Int($0)) }.joined(separator: ", ")) |")
print(String(format: "\nSesame ÷ plain: %.2f×; Sesame ÷ Vapor sessions: %.2f× (ratios of the medians)", s / p, s / v))
// The machine's speed drifts between rounds; the ratio within each round (measured close together) drifts less.
print(String(format: "Sesame ÷ plain within each round (its two Sesame runs ÷ its two plain runs): median %.2f× (", median(roundRatios)) + roundRatios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ")")
// The server's CPU per request (this process's user and system time while wrk ran, over the requests served).
let cpuPlain = median(plainRuns.map(\.cpuMicrosecondsPerRequest)), cpuSesame = median(sesameRuns.map(\.cpuMicrosecondsPerRequest))
print(String(format: "Server CPU per request (median): plain %.1f µs, Sesame %.1f µs, Vapor sessions %.1f µs; plain ÷ Sesame %.2f×", cpuPlain, cpuSesame, median(vaporRuns.map(\.cpuMicrosecondsPerRequest)), cpuPlain / cpuSesame))
