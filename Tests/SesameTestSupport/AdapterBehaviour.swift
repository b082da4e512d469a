import AsyncHTTPClient
import Foundation
import Sesame
import Testing

/// The session flow through an adapter, over real HTTP on loopback: one behavioural suite that the Hummingbird and
/// the Vapor tests both run, each against an app of its framework serving the same routes from one ``Fixture``.
///
/// The routes each adapter's app serves:
/// - behind `SesameSessionMiddleware(sessions: tokens, requirement: requirement, crossSite: crossSite)`:
///   `GET /tokens/me` → `me:<subjectID>`;
/// - behind `SesameSessionMiddleware(sessions: tokens, crossSite: crossSite)` (no requirement):
///   `POST /tokens/change` → `changed:<subjectID>` or `changed:none`, `POST /tokens/hooks/paid` → `paid`,
///   `POST /tokens/fail` → throws ``AuthError/rateLimited``, and, behind `RequireSessionMiddleware(requirement)`,
///   `GET /tokens/guarded` → `guarded`;
/// - behind `SesameSessionMiddleware(sessions: stored, crossSite: crossSite)`: `GET /stored/basket` → the items
///   joined by commas, `POST /stored/basket?item=X` → appends X with `stored.data.update`, answers `added`,
///   `POST /stored/fail?item=X` → appends X, then throws ``AuthError/rateLimited``.
public enum AdapterBehaviour {
    /// The app's session kinds.
    public enum Subject: SessionSubject, Equatable {
        case user(email: String)
    }

    /// The stored sessions' data.
    public struct Basket: Codable, Sendable, Equatable {
        public var items: [String]
        public init(items: [String]) { self.items = items }
    }

    /// What both apps are built from.
    public struct Fixture: Sendable {
        /// The app's base URL (plain http on loopback: cookies without `Secure`).
        public let base: String
        public let tokens: SessionTokens<Subject>
        public let stored: StoredSessions<Subject, Basket>
        public let store: MemorySessionStore
        /// `https://front.example` trusted, `/tokens/hooks/*` exempt.
        public let crossSite: CrossSiteProtection
        /// Any session; browsers go to `/signin`.
        public let requirement: SessionRequirement<Subject>

        public init(port: Int) throws {
            base = "http://127.0.0.1:\(port)"
            tokens = try SessionTokens(keys: KeySet(activeKey: JWK.generate(.es256)), configuration: SessionConfiguration(cookie: SessionCookie(baseURL: base)))
            store = MemorySessionStore()
            stored = StoredSessions(
                store: store, signer: SessionCookieSigner(secrets: [Array(repeating: 3, count: 32)]),
                configuration: StoredSessionConfiguration(cookie: SessionCookie(name: "sesame-sid", baseURL: base)))
            crossSite = CrossSiteProtection(trustedOrigins: ["https://front.example"], exemptPaths: ["/tokens/hooks/*"])
            requirement = SessionRequirement(signInURL: "/signin")
        }

        /// The body of `/stored/basket` and `/stored/fail`: appends the `item` query parameter.
        public func addItem(_ item: String) throws(AuthError) {
            try stored.data.update { basket in basket = Basket(items: (basket?.items ?? []) + [item]) }
        }

        /// The body of `GET /stored/basket`.
        public var basket: String { (stored.data.current?.items ?? []).joined(separator: ",") }

        /// The body of `GET /tokens/me` and `POST /tokens/change`.
        public static func describe(_ prefix: String) -> String {
            "\(prefix):\(AuthSession<Subject>.current?.subjectID ?? "none")"
        }
    }

    /// Runs every check against an app serving the routes at `fixture.base`.
    public static func run(_ fixture: Fixture, client: HTTPClient) async throws {
        try await requirements(fixture, client: client)
        try await crossSiteRequests(fixture, client: client)
        try await storedSessions(fixture, client: client)
    }

    /// Resolution and the requirement: cookie and bearer sessions, 401 for API calls, a sign-in redirect for
    /// browsers, a forged cookie cleared, the guard below a flow without a requirement, an `AuthError` answered.
    static func requirements(_ fixture: Fixture, client: HTTPClient) async throws {
        let base = fixture.base
        let token = try fixture.tokens.create(.user(email: "ada@example.com"))
        let api = try await client.send(base + "/tokens/me")
        #expect(api.status == .unauthorized && api.headers["www-authenticate"].first == "Bearer")
        #expect(api.text.contains("\"unauthorized\""))
        let browser = try await client.send(base + "/tokens/me?tab=2", headers: [("Accept", "text/html"), ("Sec-Fetch-Mode", "navigate")])
        #expect(browser.status == .found && browser.headers["location"].first == "/signin?redirect=%2Ftokens%2Fme%3Ftab%3D2")
        let byCookie = try await client.send(base + "/tokens/me", headers: [("Cookie", "sesame-session=\(token)")])
        #expect(byCookie.status == .ok && byCookie.text == "me:user:email:ada@example.com")
        let byBearer = try await client.send(base + "/tokens/me", headers: [("Authorization", "Bearer \(token)")])
        #expect(byBearer.status == .ok && byBearer.text == "me:user:email:ada@example.com")
        let forged = try await client.send(base + "/tokens/me", headers: [("Cookie", "sesame-session=\(tampered(token))")])
        #expect(forged.status == .unauthorized)
        #expect(forged.cookies.contains { $0.hasPrefix("sesame-session=;") && $0.contains("Max-Age=0") })
        #expect(try await client.send(base + "/tokens/guarded").status == .unauthorized)
        #expect(try await client.send(base + "/tokens/guarded", headers: [("Cookie", "sesame-session=\(token)")]).text == "guarded")
        let failed = try await client.send(base + "/tokens/fail", method: .POST, headers: [("Authorization", "Bearer \(token)")])
        #expect(failed.status == .tooManyRequests && failed.text.contains("\"rate_limited\""))
    }

    /// The token with one character of its signature's middle changed (every bit of it is signature).
    static func tampered(_ token: String) -> String {
        var characters = Array(token)
        let signature = (token.lastIndex(of: ".").map { token.distance(from: token.startIndex, to: $0) } ?? 0) + 1
        let middle = signature + (characters.count - signature) / 2
        characters[middle] = characters[middle] == "A" ? "B" : "A"
        return String(characters)
    }

    /// State-changing requests authenticated by the session cookie are refused unless they come from this site,
    /// a trusted origin or an exempt path; bearer requests, reads and requests without a session are not concerned.
    static func crossSiteRequests(_ fixture: Fixture, client: HTTPClient) async throws {
        let base = fixture.base
        let token = try fixture.tokens.create(.user(email: "ada@example.com"))
        let cookie = ("Cookie", "sesame-session=\(token)")
        let refused: [(String, [(String, String)])] = [
            ("a foreign Origin", [("Origin", "https://evil.example")]),
            ("Origin null", [("Origin", "null")]),
            ("a sibling subdomain", [("Origin", "http://evil.127.0.0.1.nip.io")]),
            ("another port", [("Origin", "http://127.0.0.1:1")]),
            ("Sec-Fetch-Site cross-site", [("Sec-Fetch-Site", "cross-site")]),
            ("Sec-Fetch-Site same-site", [("Sec-Fetch-Site", "same-site")]),
            ("a foreign Referer", [("Referer", "https://evil.example/page")]),
            ("a foreign Origin beside a same-origin Referer", [("Origin", "https://evil.example"), ("Referer", base + "/")]),
        ]
        for (name, headers) in refused {
            let response = try await client.send(base + "/tokens/change", method: .POST, headers: [cookie] + headers)
            #expect(response.status == .forbidden, "\(name)")
            #expect(response.text.contains("\"cross_site_request\""), "\(name)")
        }
        let allowed: [(String, [(String, String)])] = [
            ("this site's Origin", [("Origin", base)]),
            ("a trusted Origin", [("Origin", "https://front.example")]),
            ("Sec-Fetch-Site same-origin", [("Sec-Fetch-Site", "same-origin")]),
            ("Sec-Fetch-Site none", [("Sec-Fetch-Site", "none")]),
            ("this site's Referer", [("Referer", base + "/page")]),
            ("no browser headers (not a browser)", []),
        ]
        for (name, headers) in allowed {
            let response = try await client.send(base + "/tokens/change", method: .POST, headers: [cookie] + headers)
            #expect(response.status == .ok && response.text == "changed:user:email:ada@example.com", "\(name)")
        }
        let evil = ("Origin", "https://evil.example")
        let bearer = try await client.send(base + "/tokens/change", method: .POST, headers: [("Authorization", "Bearer \(token)"), evil])
        #expect(bearer.status == .ok && bearer.text == "changed:user:email:ada@example.com")
        let anonymous = try await client.send(base + "/tokens/change", method: .POST, headers: [evil])
        #expect(anonymous.status == .ok && anonymous.text == "changed:none")
        let read = try await client.send(base + "/tokens/me", headers: [cookie, evil])
        #expect(read.status == .ok)
        let exempt = try await client.send(base + "/tokens/hooks/paid", method: .POST, headers: [cookie, evil])
        #expect(exempt.status == .ok && exempt.text == "paid")
    }

    /// Store-backed sessions: data set begins a session, is read back, is not saved when the handler fails, and a
    /// cross-site write with the cookie changes nothing.
    static func storedSessions(_ fixture: Fixture, client: HTTPClient) async throws {
        let base = fixture.base
        #expect(try await client.send(base + "/stored/basket").text == "")
        let added = try await client.send(base + "/stored/basket?item=tea", method: .POST)
        #expect(added.status == .ok)
        let pair = try #require(added.cookies.first { $0.hasPrefix("sesame-sid=") }.map { String($0.prefix { $0 != ";" }) })
        let cookie = ("Cookie", pair)
        #expect(try await client.send(base + "/stored/basket?item=jam", method: .POST, headers: [cookie, ("Origin", base)]).status == .ok)
        #expect(try await client.send(base + "/stored/basket", headers: [cookie]).text == "tea,jam")
        let failed = try await client.send(base + "/stored/fail?item=lost", method: .POST, headers: [cookie])
        #expect(failed.status == .tooManyRequests && failed.cookies.isEmpty)
        let forged = try await client.send(base + "/stored/basket?item=forged", method: .POST, headers: [cookie, ("Origin", "https://evil.example")])
        #expect(forged.status == .forbidden && forged.text.contains("\"cross_site_request\""))
        #expect(try await client.send(base + "/stored/basket", headers: [cookie]).text == "tea,jam")
        // Without the cookie, the same cross-site post is not authenticated by it: it begins its own session.
        let fresh = try await client.send(base + "/stored/basket?item=own", method: .POST, headers: [("Origin", "https://evil.example")])
        #expect(fresh.status == .ok && fresh.cookies.contains { $0.hasPrefix("sesame-sid=") })
    }
}
