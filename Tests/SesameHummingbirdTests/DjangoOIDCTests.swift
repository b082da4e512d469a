import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import NIOCore
import NIOHTTP1
@testable import Sesame
import SesameDemo
import SesameHummingbird
import Synchronization
import SesameTestSupport
import Testing

/// The whole OpenID Connect flow against a real provider nobody on the team wrote: django-oauth-toolkit, started
/// on a loopback port by `Tests/OIDCProvider/provider.py` (its Python packages are installed by `scripts/test`).
/// An HTTP client with a cookie jar signs in at its login form; the app runs in router test mode and talks to the
/// provider over real HTTP.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DjangoOIDCTests {
    static let redirectURI = "http://127.0.0.1:8080/auth/django/callback"

    /// The provider process, for the duration of a test.
    static func withProvider(redirectURI: String = redirectURI, _ test: @Sendable (_ issuer: String, _ http: HTTPClient) async throws -> Void) async throws {
        let port = try await LiveServer.freePort()
        let data = NSTemporaryDirectory() + "sesame-oidc-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("Tests/OIDCProvider/provider.py").path,
                             "--port", String(port), "--data", data, "--redirect-uri", redirectURI, "--exit-with-stdin"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let input = Pipe()
        process.standardInput = input
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: data)
        }
        // Wait for "ready" (migrations and key generation take a few seconds).
        let ready = output.fileHandleForReading.readData(ofLength: 6)
        #expect(String(decoding: ready, as: UTF8.self) == "ready\n", "the provider did not start; are Django and django-oauth-toolkit installed?")
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await test("http://127.0.0.1:\(port)/o", http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// A browser for the provider's pages: a cookie jar and relative redirects.
    final class Browser: Sendable {
        let http: HTTPClient
        let origin: String
        private let jar = Mutex<[String: String]>([:])

        init(http: HTTPClient, origin: String) {
            self.http = http
            self.origin = origin
        }

        func absolute(_ location: String) -> String { location.hasPrefix("/") ? origin + location : location }

        func send(_ url: String, method: HTTPMethod = .GET, form: [(String, String)]? = nil) async throws -> LiveResponse {
            var headers: [(String, String)] = []
            let cookies = jar.withLock { $0.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            if !cookies.isEmpty { headers.append(("Cookie", cookies)) }
            if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
            let body = form.map { URLEncodedForm($0.map { (name: $0.0, value: $0.1) }).encoded }
            let response = try await http.send(absolute(url), method: method, headers: headers, body: body)
            for cookie in response.cookies {
                let pair = cookie.prefix { $0 != ";" }
                guard let equals = pair.firstIndex(of: "=") else { continue }
                jar.withLock { $0[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
            }
            return response
        }

        /// Follows the provider's redirects, signing in at its login form when asked, until it redirects to Sesame.
        func signIn(from location: String, returningTo app: String = "http://127.0.0.1:8080/", username: String = "ada", password: String = "correct-horse-battery-staple") async throws -> String {
            var next = location
            for _ in 0..<6 {
                let response = try await send(next)
                #expect(response.status == .found, "unexpected \(response.status) at \(next)")
                let target = try #require(response.headers["location"].first)
                if target.hasPrefix(app) { return target }
                if target.contains("/accounts/login/") {
                    let page = try await send(target)
                    let token = try #require(page.text.firstMatch(of: /name="csrfmiddlewaretoken" value="([^"]+)"/).map { String($0.1) })
                    let posted = try await send(target, method: .POST, form: [("csrfmiddlewaretoken", token), ("username", username), ("password", password)])
                    #expect(posted.status == .found, "the login form was refused")
                    next = try #require(posted.headers["location"].first)
                } else {
                    next = target
                }
            }
            Issue.record("the provider did not redirect back to Sesame")
            return ""
        }
    }

    static func app(issuer: String, successes: OAuthFlowTests.Successes, sessions: SessionTokens<TestSession>, keys: KeySet) -> some ApplicationProtocol {
        let provider = OIDCProvider(displayName: "Django", configuration: .init(
            issuer: issuer, credentials: ClientCredentials(id: "sesame", secret: "sesame-secret-for-tests")))
        let misconfigured = OIDCProvider(displayName: "Django (wrong issuer)", configuration: .init(
            issuer: issuer + "/", credentials: ClientCredentials(id: "sesame", secret: "sesame-secret-for-tests")))
        let handler = AuthHandler(providers: ["django": provider, "wrongissuer": misconfigured], configuration: AuthConfiguration(baseURL: TestApp.baseURL), keys: keys) { success in
            successes.all.withLock { $0.append(success) }
            guard let email = success.profile?.email, success.profile?.emailVerified == true else { throw AuthError.accessDenied }
            return AuthResponse(try sessions.cookie(.user(email: email), redirect: TestApp.baseURL + "/"))
        }
        let router = Router(context: SessionContext<TestSession>.self)
        router.addAuthHandler(handler)
        return Application(router: router)
    }

    @Test func signsInAtARealProviderAndRejectsTheNegativeCases() async throws {
        try await Self.withProvider { issuer, http in
            let testApp = try TestApp()
            let successes = OAuthFlowTests.Successes()
            let browser = Browser(http: http, origin: String(issuer.dropLast(2)))
            try await Self.app(issuer: issuer, successes: successes, sessions: testApp.sessions, keys: testApp.keys).test(.router) { client in
                // The happy path: Sesame → the provider's login form → Sesame's callback → a Sesame session.
                let authorize = try await client.execute(uri: "/auth/django/authorize", method: .get, headers: .browser)
                let flowCookie = try #require(authorize.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
                let atProvider = try #require(authorize.headers[.location])
                #expect(atProvider.hasPrefix(issuer + "/authorize/?"))
                let back = try await browser.signIn(from: atProvider)
                let callback = try await client.execute(uri: pathAndQuery(back), method: .get, headers: [.cookie: flowCookie, .accept: "text/html"])
                #expect(callback.status == .found)
                let cookie = try #require(callback.sessionCookie)
                let session = try await testApp.sessions.verify(String(cookie.drop { $0 != "=" }.dropFirst()))
                #expect(session.subject == .user(email: "ada@example.com"))
                let success = try #require(successes.last)
                #expect(success.claims["iss"] == .string(issuer))
                #expect(success.claims["aud"] == "sesame")
                #expect(success.tokens?.idToken != nil && success.tokens?.accessToken.isEmpty == false)

                // A replayed callback (with a copy of the flow cookie) is refused.
                try await client.execute(uri: pathAndQuery(back), method: .get, headers: [.cookie: flowCookie]) { response in
                    #expect(response.json?["error"] == "invalid_state")
                }

                // A replayed code, under a fresh flow: the provider refuses it.
                let fresh = try await client.execute(uri: "/auth/django/authorize", method: .get)
                let freshCookie = try #require(fresh.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
                let freshBack = try await browser.signIn(from: try #require(fresh.headers[.location]))
                let oldCode = try #require(URLEncodedForm(parsing: back.split(separator: "?", maxSplits: 1)[1])["code"])
                let freshState = try #require(URLEncodedForm(parsing: freshBack.split(separator: "?", maxSplits: 1)[1])["state"])
                let replayed = "/auth/django/callback?" + URLEncodedForm([("code", oldCode), ("state", freshState)]).encoded
                try await client.execute(uri: replayed, method: .get, headers: [.cookie: freshCookie]) { response in
                    #expect(response.status == .badGateway)
                    #expect(response.json?["error"] == "oauth_callback")
                    #expect(response.sessionCookie == nil)
                }

                // A tampered state is refused before the provider is asked anything.
                let third = try await client.execute(uri: "/auth/django/authorize", method: .get)
                let thirdCookie = try #require(third.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
                let thirdBack = try await browser.signIn(from: try #require(third.headers[.location]))
                let tampered = pathAndQuery(thirdBack).replacingOccurrences(of: "state=", with: "state=x")
                try await client.execute(uri: tampered, method: .get, headers: [.cookie: thirdCookie]) { response in
                    #expect(response.json?["error"] == "invalid_state")
                }

                // A wrong nonce: the provider is asked, with this flow's state and PKCE challenge, for a code bound
                // to another nonce. The exchange succeeds, and the ID token's nonce is then refused.
                let fourth = try await client.execute(uri: "/auth/django/authorize", method: .get)
                let fourthCookie = try #require(fourth.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
                let fourthLocation = try #require(fourth.headers[.location])
                let otherNonce = fourthLocation.replacingOccurrences(of: "nonce=", with: "nonce=someone-elses-")
                let fourthBack = try await browser.signIn(from: otherNonce)
                try await client.execute(uri: pathAndQuery(fourthBack), method: .get, headers: [.cookie: fourthCookie]) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.json?["error"] == "invalid_id_token")
                    #expect(response.sessionCookie == nil)
                }

                // A wrong issuer: the provider's metadata names another issuer than the one configured.
                try await client.execute(uri: "/auth/wrongissuer/authorize", method: .get) { response in
                    #expect(response.status == .badGateway)
                    #expect(response.json?["error"] == "oauth_signin")
                }
                #expect(successes.all.withLock { $0.count } == 1)
            }
        }
    }

    /// The demo, served on a loopback port, signs in at the real provider: a button on its home page, the
    /// provider's login form, the callback, and the protected page with the new session.
    @Test func demoSignsInAtARealProviderOverHTTP() async throws {
        let port = try await LiveServer.freePort()
        let base = "http://127.0.0.1:\(port)"
        try await Self.withProvider(redirectURI: base + "/auth/oidc/callback") { issuer, http in
            let provider = OIDCProvider(displayName: "Django", configuration: .init(
                issuer: issuer, credentials: ClientCredentials(id: "sesame", secret: "sesame-secret-for-tests")))
            let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)),
                                providers: ["oidc": provider], logger: Logger(label: "test"))
            try await LiveServer.run(demo.application()) { _ in
                // One cookie jar for both servers, as a browser has: cookies ignore ports.
                let browser = Browser(http: http, origin: String(issuer.dropLast(2)))
                let home = try await browser.send(base + "/?redirect=%2Fprotected")
                let button = try #require(home.text.firstMatch(of: /href="(\/auth\/oidc\/authorize\?returnTo=[^"]*)">Sign in with Django</).map { String($0.1) })
                let authorize = try await browser.send(base + button)
                #expect(authorize.status == .found)
                let back = try await browser.signIn(from: try #require(authorize.headers["location"].first), returningTo: base + "/")
                #expect(back.hasPrefix(base + "/auth/oidc/callback?code="))
                let signedIn = try await browser.send(back)
                #expect(signedIn.status == .found)
                #expect(signedIn.headers["location"].first == base + "/protected")
                #expect(signedIn.sessionCookie != nil)
                let page = try await browser.send(base + "/protected")
                #expect(page.status == .ok)
                #expect(page.text.contains("ada@example.com"))
            }
        }
    }
}
