import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import NIOCore
@testable import Sesame
import SesameDemo
import SesameHummingbird
import SesameTestSupport
import Testing

/// The whole OpenID Connect flow against a real provider nobody on the team wrote: django-oauth-toolkit, started
/// on a loopback port by `Tests/OIDCProvider/provider.py` (its Python packages are installed by `scripts/test`).
/// An HTTP client with a cookie jar signs in at its login form; the app runs in router test mode and talks to the
/// provider over real HTTP.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DjangoOIDCTests {
    static let redirectURI = "http://127.0.0.1:8080/auth/django/callback"

    /// The provider, for the duration of a test.
    static func withProvider(redirectURI: String = redirectURI, _ test: @Sendable (_ issuer: String, _ http: HTTPClient) async throws -> Void) async throws {
        try await OIDCTestProvider.run(redirectURI: redirectURI, test)
    }

    static func app(issuer: String, successes: OAuthFlowTests.Successes, sessions: SessionTokens<TestSession>, keys: KeySet) -> some ApplicationProtocol {
        let provider = OIDCTestProvider.provider(issuer: issuer)
        let misconfigured = OIDCProvider(displayName: "Django (wrong issuer)", configuration: .init(
            issuer: issuer + "/", credentials: ClientCredentials(id: OIDCTestProvider.clientID, secret: OIDCTestProvider.clientSecret)))
        let handler = AuthHandler(providers: ["django": provider, "wrongissuer": misconfigured], configuration: AuthConfiguration(baseURL: TestApp.baseURL), keys: keys) { success in
            successes.all.withLock { $0.append(success) }
            guard let email = success.profile?.email, success.profile?.emailVerified == true else { throw AuthError.accessDenied }
            return AuthResponse(try sessions.cookie(.user(email: email), redirect: TestApp.baseURL + "/"))
        }
        let router = Router(context: BasicSesameRequestContext<TestSession>.self)
        router.addAuthHandler(handler)
        return Application(router: router)
    }

    @Test func signsInAtARealProviderAndRejectsTheNegativeCases() async throws {
        try await Self.withProvider { issuer, http in
            let testApp = try TestApp()
            let successes = OAuthFlowTests.Successes()
            let browser = ProviderBrowser(http: http, origin: String(issuer.dropLast(2)))
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
            let provider = OIDCTestProvider.provider(issuer: issuer)
            let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)),
                                providers: ["oidc": provider], logger: Logger(label: "test"))
            try await LiveServer.run(demo.application()) { _ in
                // One cookie jar for both servers, as a browser has: cookies ignore ports.
                try await DemoFlows.signInAtProvider(browser: ProviderBrowser(http: http, origin: String(issuer.dropLast(2))), base: base)
                try await DemoFlows.accountsAcrossSignIns(client: http, base: base)
                try await DemoFlows.accountDeleted(client: http, base: base)
            }
        }
    }
}
