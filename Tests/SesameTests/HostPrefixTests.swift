import Foundation
import HTTPTypes
import Testing
@testable import Sesame

/// The handler's own cookies (CSRF, OAuth flow) on an https app: set `Secure` under `__Host-` whatever the request
/// says about itself (a proxy speaking plain http to `127.0.0.1`), and read only under that name, so a planted
/// unprefixed cookie, even one with a valid MAC, is ignored.
@Suite struct HostPrefixTests {
    let keys: KeySet
    let https: AuthHandler
    let development: AuthHandler

    init() throws {
        keys = try KeySet(activeKey: JWK.generate(.es256))
        let github = OAuth2Provider.github(clientID: "id", clientSecret: "secret")
        https = AuthHandler(providers: ["github": github], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys) { _ in .json([:]) }
        development = AuthHandler(providers: ["github": github], configuration: AuthConfiguration(baseURL: "http://127.0.0.1:8080"), keys: keys) { _ in .json([:]) }
    }

    /// A request as a reverse proxy forwards it: plain http to a loopback address.
    static func proxied(_ method: HTTPRequest.Method, _ path: String, cookie: String? = nil) -> HTTPRequest {
        var request = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path)
        if let cookie { request.headerFields[.cookie] = cookie }
        return request
    }

    static func pair(_ response: AuthResponse) -> String? {
        response.head.headerFields[.setCookie].map { String($0.prefix { $0 != ";" }) }
    }

    @Test func csrfCookieIsSecureByConfigurationAndReadOnlyUnderItsPrefix() async throws {
        let issued = await https.handle(AuthRequest(head: Self.proxied(.get, "/auth/csrf")))
        let setCookie = try #require(issued.head.headerFields[.setCookie])
        #expect(setCookie.hasPrefix("__Host-sesame-csrf=") && setCookie.contains("; Secure") && setCookie.contains("Path=/;"))
        // The development handler (same keys, so the same MAC key) issues an unprefixed cookie over plain http.
        let planted = await development.handle(AuthRequest(head: Self.proxied(.get, "/auth/csrf")))
        let plantedPair = try #require(Self.pair(planted))
        #expect(plantedPair.hasPrefix("sesame-csrf="))
        let plantedToken = try #require(try JSONValue(parsing: planted.body)["csrfToken"]?.stringValue)
        // On https it is ignored: a new token is issued instead of the planted one …
        let again = await https.handle(AuthRequest(head: Self.proxied(.get, "/auth/csrf", cookie: plantedPair)))
        #expect(try JSONValue(parsing: again.body)["csrfToken"]?.stringValue != plantedToken)
        #expect(again.head.headerFields[.setCookie]?.hasPrefix("__Host-sesame-csrf=") == true)
        // … and a state change that submits it is refused.
        #expect(!https.csrf.verify(Self.proxied(.post, "/auth/signout", cookie: plantedPair), submitted: plantedToken))
        #expect(https.csrf.verify(Self.proxied(.post, "/auth/signout", cookie: "__Host-" + plantedPair), submitted: plantedToken))
    }

    @Test func flowCookieIsSecureByConfigurationAndReadOnlyUnderItsPrefix() async throws {
        let started = await https.handle(AuthRequest(head: Self.proxied(.get, "/auth/github/authorize")))
        let setCookie = try #require(started.head.headerFields[.setCookie])
        #expect(setCookie.hasPrefix("__Host-sesame-flow-github=") && setCookie.contains("; Secure") && setCookie.contains("Path=/;"))
        let flow = try #require(Self.pair(started))
        let value = flow.drop { $0 != "=" }.dropFirst()
        // Planted without the prefix: no sign-in is in progress, as far as the https app can tell.
        let planted = await https.handle(AuthRequest(head: Self.proxied(.get, "/auth/github/callback?code=c&state=s", cookie: "sesame-flow-github=\(value)")))
        #expect(planted.head.status == .badRequest)
        #expect(try JSONValue(parsing: planted.body)["error_description"] == "no sign-in is in progress in this browser")
        // Under its own name the flow is read (and this callback's state does not match it).
        let read = await https.handle(AuthRequest(head: Self.proxied(.get, "/auth/github/callback?code=c&state=s", cookie: flow)))
        #expect(try JSONValue(parsing: read.body)["error_description"] == "the state does not match this browser's sign-in")
        // In plain-http development the flow cookie has no prefix and no Secure.
        let local = await development.handle(AuthRequest(head: Self.proxied(.get, "/auth/github/authorize")))
        let localCookie = try #require(local.head.headerFields[.setCookie])
        #expect(localCookie.hasPrefix("sesame-flow-github=") && !localCookie.contains("Secure"))
    }
}
