import AsyncHTTPClient
import Foundation
import Logging
import Sesame
import SesameDemo
import SesameDemoVapor
import SesameSQLite
import SesameTestSupport
import SesameVapor
import Synchronization
import Testing
import Vapor

/// The Vapor integration on a real loopback server, through the same flows as the Hummingbird tests: the demo's
/// magic link, its store-backed sessions in SQLite across a restart, its sign-in at a real OpenID Connect provider,
/// and rate limits keyed by the client address Vapor reports.
@Suite(.timeLimit(.minutes(3))) struct VaporDemoLiveTests {
    /// Serves an app configured by `configure` on `port` (Vapor's HTTP server, 127.0.0.1) for the duration of `test`.
    static func serve<Result: Sendable>(port: Int, configure: (Application) throws -> Void, test: @Sendable (HTTPClient) async throws -> Result) async throws -> Result {
        let app = try await Application.make(.testing)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let result: Result
        do {
            try configure(app)
            try await app.server.start(address: .hostname("127.0.0.1", port: port))
            result = try await test(client)
        } catch {
            try await client.shutdown()
            await app.server.shutdown()
            try await app.asyncShutdown()
            throw error
        }
        try await client.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
        return result
    }

    @Test func demoMagicLinkFlowOverHTTP() async throws {
        let port = try await LivePorts.free()
        let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)), logger: Logger(label: "test"))
        try await Self.serve(port: port, configure: { VaporDemoRoutes.register(on: $0, demo: demo) }) { client in
            try await DemoFlows.magicLinkFlow(client: client, base: "http://127.0.0.1:\(port)")
            try await DemoFlows.linkOpenedElsewhere(client: client, base: "http://127.0.0.1:\(port)")
        }
    }

    /// Store-backed sessions in SQLite, in place of Vapor's `SessionsMiddleware`: data kept in the session, the
    /// session surviving a restart of the app, and sign-out deleting it.
    @Test func demoWithSQLiteSessionsOverHTTP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-vapor-demo-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let path = directory.appendingPathComponent("sessions.sqlite").path
        func demo(port: Int) throws -> (Demo<StoredSessions<DemoSession, DemoData>>, SQLiteStorage) {
            let storage = SQLiteStorage(path: path)
            let sessions = StoredSessions<DemoSession, DemoData>(
                store: SQLiteSessionStore(storage: storage), signer: SessionCookieSigner(keys: keys),
                configuration: StoredSessionConfiguration(cookie: SessionCookie(name: "sesame-sid", baseURL: "http://127.0.0.1:\(port)")))
            return (try Demo(configuration: DemoConfiguration(port: port), keys: keys, sessions: sessions, logger: Logger(label: "test")), storage)
        }

        let port = try await LivePorts.free()
        let base = "http://127.0.0.1:\(port)"
        let (first, firstStorage) = try demo(port: port)
        let cookie = try await Self.serve(port: port, configure: { VaporDemoRoutes.register(on: $0, demo: first) }) { client in
            try await DemoFlows.storedSessionSignIn(client: client, base: base)
        }
        try await firstStorage.close()

        // A new app on the same database: the session and its data are still there.
        let (second, secondStorage) = try demo(port: port)
        try await Self.serve(port: port, configure: { VaporDemoRoutes.register(on: $0, demo: second) }) { client in
            try await DemoFlows.storedSessionAfterRestart(client: client, base: base, cookie: cookie)
        }
        try await secondStorage.close()
    }

    /// The demo signs in at a real OpenID Connect provider (django-oauth-toolkit on another loopback port): the
    /// same flow, through Vapor's routing and the adapter's request and response conversions.
    @Test func demoSignsInAtARealProviderOverHTTP() async throws {
        let port = try await LivePorts.free()
        let base = "http://127.0.0.1:\(port)"
        try await OIDCTestProvider.run(redirectURI: base + "/auth/oidc/callback") { issuer, http in
            let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)),
                                providers: ["oidc": OIDCTestProvider.provider(issuer: issuer)], logger: Logger(label: "test"))
            try await Self.serve(port: port, configure: { VaporDemoRoutes.register(on: $0, demo: demo) }) { _ in
                // One cookie jar for both servers, as a browser has: cookies ignore ports.
                try await DemoFlows.signInAtProvider(browser: ProviderBrowser(http: http, origin: String(issuer.dropLast(2))), base: base)
                try await DemoFlows.accountsAcrossSignIns(client: http, base: base)
                try await DemoFlows.accountDeleted(client: http, base: base)
            }
        }
    }

    /// Link requests are limited per client, by the socket address Vapor reports: the third from this client is
    /// refused (429 JSON) and nothing is sent for it. And a HEAD request reaches the handler's routes.
    @Test func rateLimitsPerClientAddressOverHTTP() async throws {
        let port = try await LivePorts.free()
        let base = "http://127.0.0.1:\(port)"
        let sent = Mutex(0)
        let link = LinkProvider(configuration: LinkProvider.Configuration(
            perAddress: MemoryRateLimiter(capacity: 100, refillInterval: 60),
            perClient: MemoryRateLimiter(capacity: 2, refillInterval: 60),
            deliversInBackground: false)) { _, _ in sent.withLock { $0 += 1 } }
        let handler = AuthHandler(providers: ["link": link], configuration: AuthConfiguration(baseURL: base), keys: try KeySet(activeKey: JWK.generate(.es256))) { _ in
            throw AuthError.accessDenied
        }
        try await Self.serve(port: port, configure: { $0.addAuthHandler(handler) }) { client in
            for (index, email) in ["a@example.com", "b@example.com", "c@example.com"].enumerated() {
                let response = try await client.send(base + "/auth/link/authorize?email=\(email)")
                #expect(response.status == (index < 2 ? .ok : .tooManyRequests))
                if index == 2 { #expect(try JSONValue(parsing: response.text)["error"] == "rate_limited") }
            }
            #expect(sent.withLock { $0 } == 2)
            // A HEAD of a read-only action: its status and fields, no body.
            let head = try await client.send(base + "/auth/providers", method: .HEAD)
            #expect(head.status == .ok && head.text.isEmpty)
            #expect(head.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
        }
    }

    enum NoteSession: SessionSubject, Equatable { case user(email: String) }
    struct Note: Codable, Sendable, Equatable { var size: Int }

    /// Vapor calls a synchronous route closure from a callback when it had to collect a body that did not arrive
    /// whole with its head: the middleware's task-local scope has ended by then. In such a closure
    /// `req.withCurrentSession` makes the store-backed session current again, and what it writes to
    /// the session data is saved; without it, the session is not current and a write is refused.
    @Test func synchronousClosureAfterAStreamedBody() async throws {
        let port = try await LivePorts.free()
        let base = "http://127.0.0.1:\(port)"
        let store = CountingSessionStore()
        let sessions = StoredSessions<NoteSession, Note>(
            store: store, signer: SessionCookieSigner(secrets: [Array(repeating: 9, count: 32)]),
            configuration: StoredSessionConfiguration(cookie: SessionCookie(name: "sesame-sid", baseURL: base)))
        // Larger than one read of a connection can be (NIO reads at most 64 KiB at a time), so it never arrives
        // whole with its head: Vapor streams it into the route's collector.
        let body = String(repeating: "n", count: 128 * 1024)
        let tokens = try SessionTokens<NoteSession>(
            keys: KeySet(activeKey: JWK.generate(.es256)), configuration: SessionConfiguration(cookie: SessionCookie(baseURL: base)))
        let token = try tokens.create(.user(email: "bob@example.com"))
        try await Self.serve(port: port, configure: { app in
            let site = app.grouped(SesameSessionMiddleware(sessions: sessions))
            site.post("signin") { request async throws -> Response in
                Response(AuthResponse(try await sessions.signIn(.user(email: "ada@example.com"), request: AuthRequest(request).head, redirect: "/")))
            }
            site.on(.POST, "unscoped", body: .collect(maxSize: "1mb")) { request throws -> String in
                let current = AuthSession<NoteSession>.current == nil ? "no session" : "session"
                let write = (try? sessions.data.set(Note(size: -1))) == nil ? "refused" : "written"
                return current + ", " + write
            }
            site.on(.POST, "scoped", body: .collect(maxSize: "1mb")) { request throws -> String in
                try request.withCurrentSession(NoteSession.self) {
                    try sessions.data.set(Note(size: request.body.data?.readableBytes ?? 0))
                    return AuthSession<NoteSession>.current?.subjectID ?? "no session"
                }
            }
            site.get("note") { _ async in sessions.data.current.map { String($0.size) } ?? "none" }
            // Stateless sessions: the scope is rebuilt from `req.auth`.
            app.grouped(SesameSessionMiddleware(sessions: tokens)).on(.POST, "token", body: .collect(maxSize: "1mb")) { request throws -> String in
                let outside = AuthSession<NoteSession>.current?.subjectID ?? "no session"
                return outside + ", " + request.withCurrentSession(NoteSession.self) { AuthSession<NoteSession>.current?.subjectID ?? "no session" }
            }
        }) { client in
            let signedIn = try await client.send(base + "/signin", method: .POST)
            #expect(signedIn.status == .found)
            let cookie = try #require(signedIn.cookies.first { $0.hasPrefix("sesame-sid=") || $0.hasPrefix("__Host-sesame-sid=") }.map { String($0.prefix { $0 != ";" }) })
            let headers = [("Cookie", cookie), ("Content-Type", "text/plain")]

            // Outside the scope: no session, and the write is refused (so nothing changes).
            let unscoped = try await client.send(base + "/unscoped", method: .POST, headers: headers, body: body)
            #expect(unscoped.status == .ok)
            #expect(unscoped.text == "no session, refused")
            #expect(try await client.send(base + "/note", headers: headers).text == "none")

            // In the scope the closure makes: the session is current, and its data is written and saved.
            store.resetCounts()
            let scoped = try await client.send(base + "/scoped", method: .POST, headers: headers, body: body)
            #expect(scoped.status == .ok)
            #expect(scoped.text == "user:email:ada@example.com")
            #expect(store.counts.sets == 1)
            #expect(try await client.send(base + "/note", headers: headers).text == String(body.utf8.count))

            let stateless = try await client.send(base + "/token", method: .POST, headers: [("Authorization", "Bearer " + token)], body: body)
            #expect(stateless.text == "no session, user:email:bob@example.com")
        }
    }
}
