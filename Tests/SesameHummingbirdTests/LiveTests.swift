import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Sesame
import SesameDemo
import SesameHummingbird
import SesameSQLite
import SesameTestSupport
import Testing

/// The whole magic-link flow over real HTTP: the demo app on a free loopback port, driven by
/// AsyncHTTPClient, as a person would click through it.
@Suite(.timeLimit(.minutes(3))) struct LiveTests {
    @Test func demoMagicLinkFlowOverHTTP() async throws {
        let port = try await LiveServer.freePort()
        let base = "http://127.0.0.1:\(port)"
        let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)), logger: Logger(label: "test"))
        try await LiveServer.run(demo.application()) { client in
            try await DemoFlows.magicLinkFlow(client: client, base: base)
            try await DemoFlows.linkOpenedElsewhere(client: client, base: base)
        }
    }

    /// The demo with store-backed sessions in SQLite: the same sign-in, data kept in the session (a visit
    /// counter), a session that survives a restart of the app, and sign-out deleting it.
    @Test func demoWithSQLiteSessionsOverHTTP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-demo-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let path = directory.appendingPathComponent("sessions.sqlite").path
        func demo(port: Int) throws -> (Demo<StoredSessions<DemoSession, DemoData>>, SQLiteStorage) {
            let storage = SQLiteStorage(path: path)
            let configuration = DemoConfiguration(port: port)
            let sessions = StoredSessions<DemoSession, DemoData>(
                store: SQLiteSessionStore(storage: storage), signer: SessionCookieSigner(keys: keys),
                configuration: StoredSessionConfiguration(cookie: SessionCookie(name: "sesame-sid", baseURL: configuration.baseURL)))
            return (try Demo(configuration: configuration, keys: keys, sessions: sessions, logger: Logger(label: "test")), storage)
        }

        let port = try await LiveServer.freePort()
        let base = "http://127.0.0.1:\(port)"
        let (first, firstStorage) = try demo(port: port)
        let cookie = try await LiveServer.run(first.application()) { client in
            try await DemoFlows.storedSessionsListedAndEnded(client: client, base: base)
            return try await DemoFlows.storedSessionSignIn(client: client, base: base)
        }
        try await firstStorage.close()

        // A new app process on the same database: the session and its data are still there.
        let (second, secondStorage) = try demo(port: port)
        try await LiveServer.run(second.application()) { client in
            try await DemoFlows.storedSessionAfterRestart(client: client, base: base, cookie: cookie)
        }
        try await secondStorage.close()
    }

    /// `GET /dev/memory` (development only) names every bounded structure the demo keeps in memory, with its size:
    /// what the bounded-memory flood (scripts/memory-flood.py) reads.
    @Test func theDemoReportsItsBoundedStructuresInDevelopmentOnly() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let demo = try Demo(configuration: DemoConfiguration(port: 8080), keys: keys, logger: Logger(label: "test"))
        try await demo.application().test(.router) { client in
            let csrf = try await client.execute(uri: "/auth/csrf", method: .get)
            let token = try #require(try JSONValue(parsing: Array(csrf.body.readableBytesView))["csrfToken"]?.stringValue)
            let cookie = try #require(csrf.headers[values: .setCookie].first?.split(separator: ";").first.map(String.init))
            let sent = try await client.execute(
                uri: "/auth/signin/link", method: .post,
                headers: [
                    .contentType: "application/x-www-form-urlencoded", .cookie: cookie, .accept: "application/json",
                    .origin: demo.configuration.baseURL,
                ],
                body: ByteBuffer(string: "email=someone%40example.com&csrfToken=\(token)"))
            #expect(sent.status == .ok)
            let report = try await client.execute(uri: "/dev/memory", method: .get)
            #expect(report.status == .ok)
            let counts = try #require(try JSONValue(parsing: Array(report.body.readableBytesView))["counts"])
            for name in ["replay: used IDs", "revocations: revoked tokens", "revocations: subject cut-offs", "mailbox: messages",
                         "session tokens: verified-token cache", "rate limiter password-address: keys", "rate limiter second-factor: keys"] {
                #expect(counts[name] != nil, "\(name) is not reported")
            }
            #expect(counts["rate limiter link-address: keys"] == .integer(1))
            // A router test has no client address, so only the per-address limit applies.
            #expect(counts["rate limiter link-client: keys"] == .integer(0))
        }
        let production = try Demo(configuration: DemoConfiguration(port: 8080, isDevelopment: false), keys: keys, logger: Logger(label: "test"))
        try await production.application().test(.router) { client in
            let report = try await client.execute(uri: "/dev/memory", method: .get)
            #expect(report.status == .notFound)
        }
    }

    @Test func rateLimitsPerClientAddressOverHTTP() async throws {
        let port = try await LiveServer.freePort()
        let testApp = try TestApp(perAddress: 100, perClient: 2)
        let app = Application(router: testApp.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await LiveServer.run(app) { client in
            for (index, email) in ["a@example.com", "b@example.com", "c@example.com"].enumerated() {
                let response = try await client.send("http://127.0.0.1:\(port)/auth/link/authorize?email=\(email)")
                #expect(response.status == (index < 2 ? .ok : .tooManyRequests))
            }
            #expect(testApp.outbox.all.count == 2)
        }
    }
}
