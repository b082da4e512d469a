import Foundation
import Logging
import Sesame
import SesameDemo
import SesameVapor
import Vapor

// The protected JSON route on Vapor 4, measured with wrk on loopback in one run, interleaved round by round:
//   plain           the same rendering of a session verified once at start-up, no session middleware;
//   Sesame          SesameSessionMiddleware with a requirement (ES256 session cookie, verified-token cache,
//                   revocation check, req.auth, task-local), the route reading Session.current;
//   Vapor sessions  Vapor's own SessionsMiddleware with its memory driver, the route reading req.session.data.
// Every route gets the same request shape (one cookie). Targets: Sesame ≥ 0.9× plain, ≥ 1.0× Vapor sessions.
// Usage: swift run -c release --package-path Benchmarks sesame-vapor-benchmark [seconds-per-round] [rounds] [connections]

let arguments = CommandLine.arguments.dropFirst()
let seconds = arguments.first.flatMap(Int.init) ?? 10
let rounds = arguments.dropFirst().first.flatMap(Int.init) ?? 3
let connections = arguments.dropFirst(2).first.flatMap(Int.init) ?? 64

guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else {
    FileHandle.standardError.write(Data("wrk is not installed: apt-get install wrk\n".utf8))
    exit(2)
}

/// Runs a command and returns what it printed.
func run(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Requests per second from wrk, after checking that every response was a success.
func wrk(_ url: String, cookie: String) throws -> Double {
    let text = try run("/usr/bin/wrk", ["-t", "1", "-c", String(connections), "-d", "\(seconds)s", "-H", "Cookie: \(cookie)", url])
    guard !text.contains("Non-2xx"), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
        let rate = Double(line.split(separator: " ").last!)
    else { fatalError("wrk failed or saw errors:\n\(text)") }
    return rate
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let keys = try KeySet(activeKey: JWK.generate(.es256))
let demo = try Demo(configuration: DemoConfiguration(port: 0, isDevelopment: false), keys: keys, logger: logger)
let token = try demo.sessions.create(.user(email: "bench@example.com"))
let session = try await demo.sessions.verify(token)

let app = try await Application.make(.production)
app.logger.logLevel = .error
app.middleware = Middlewares()
app.sessions.use(.memory)
app.get("bench", "plain") { _ async in Response(DemoAPI.json(session)) }
app.grouped(SesameSessionMiddleware(sessions: demo.sessions, requirement: SessionRequirement()))
    .get("api", "me") { _ async in Response(DemoAPI.meResponse()) }
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

// A Vapor session cookie, from Vapor's own login route.
let login = try run("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", base + "/vapor/login"])
guard let setCookie = login.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("set-cookie:") }) else { fatalError("no Vapor session cookie:\n\(login)") }
let vaporCookie = String(setCookie.dropFirst("set-cookie:".count).drop { $0 == " " }.prefix { $0 != ";" })

var plain: [Double] = [], sesame: [Double] = [], vapor: [Double] = []
for _ in 0..<rounds {
    plain.append(try wrk(base + "/bench/plain", cookie: "sesame-session=\(token)"))
    sesame.append(try wrk(base + "/api/me", cookie: "sesame-session=\(token)"))
    vapor.append(try wrk(base + "/vapor/me", cookie: vaporCookie))
}
await stop(app)
try await app.asyncShutdown()

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let p = median(plain), s = median(sesame), v = median(vapor)
print("Sesame on Vapor: wrk on loopback, \(connections) connections, \(seconds) s per round, median of \(rounds) interleaved rounds\n")
print("| route | requests/s (median) | all rounds |")
print("|---|---:|---|")
print("| `GET /bench/plain` (no session middleware, same request) | \(Int(p)) | \(plain.map { String(Int($0)) }.joined(separator: ", ")) |")
print("| `GET /api/me` (SesameSessionMiddleware + requirement, ES256 cookie) | \(Int(s)) | \(sesame.map { String(Int($0)) }.joined(separator: ", ")) |")
print("| `GET /vapor/me` (Vapor SessionsMiddleware, memory driver) | \(Int(v)) | \(vapor.map { String(Int($0)) }.joined(separator: ", ")) |")
print(String(format: "\nSesame ÷ plain: %.2f×; Sesame ÷ Vapor sessions: %.2f×", s / p, s / v))
