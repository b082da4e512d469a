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
            let sessions = StoredSessions<DemoSession, DemoData>(store: SQLiteSessionStore(storage: storage), signer: SessionCookieSigner(keys: keys))
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
}
