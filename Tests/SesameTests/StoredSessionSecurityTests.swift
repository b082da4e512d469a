import Foundation
import HTTPTypes
import Testing
@testable import Sesame

/// Store-backed sessions' cookie and sign-in rules, on the core alone.
@Suite struct StoredSessionSecurityTests {
    struct Cart: Codable, Sendable, Equatable {
        var items: [String]
    }

    let clock = TestClock()
    let store: MemorySessionStore
    let signer = SessionCookieSigner(secrets: [Array(repeating: 5, count: 32)])

    init() {
        let clock = self.clock
        store = MemorySessionStore(now: { Date(timeIntervalSince1970: clock.now) })
    }

    func sessions(_ configuration: StoredSessionConfiguration = StoredSessionConfiguration()) -> StoredSessions<AppSession, Cart> {
        let clock = self.clock
        return StoredSessions(store: store, signer: signer, configuration: configuration, now: { Date(timeIntervalSince1970: clock.now) })
    }

    static func request(cookie: String?) -> HTTPRequest {
        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        if let cookie { request.headerFields[.cookie] = cookie }
        return request
    }

    static func pair(_ setCookie: String?) throws -> String { String(try #require(setCookie).prefix { $0 != ";" }) }

    /// An anonymous session with a cart, as a browser would hold it.
    func anonymousCart(_ sessions: StoredSessions<AppSession, Cart>, items: [String]) async throws -> String {
        let resolution = await sessions.resolve(Self.request(cookie: nil))
        try SessionScope(resolution).run { try sessions.data.set(Cart(items: items)) }
        let fields = try await sessions.commit(resolution).value.get()
        return try Self.pair(fields.first?.value)
    }

    func cart(_ sessions: StoredSessions<AppSession, Cart>, cookie: String) async -> [String]? {
        let resolution = await sessions.resolve(Self.request(cookie: cookie))
        return SessionScope(resolution).run { sessions.data.current?.items }
    }

    @Test func signInCarriesOverOnlyAnonymousData() async throws {
        let sessions = sessions()
        // Anonymous data moves to the signed-in session (a cart filled before signing in).
        let anonymous = try await anonymousCart(sessions, items: ["tea"])
        let ada = try Self.pair(try await sessions.signIn(.user(userID: "ada", tenantID: nil), request: Self.request(cookie: anonymous), redirect: "/").headerFields[.setCookie])
        #expect(await cart(sessions, cookie: ada) == ["tea"])
        // A signed-in session's data never moves to whoever signs in next in that browser.
        let resolution = await sessions.resolve(Self.request(cookie: ada))
        try SessionScope(resolution).run { try sessions.data.set(Cart(items: ["ada's secret"])) }
        _ = try await sessions.commit(resolution).value.get()
        let mallory = try Self.pair(try await sessions.signIn(.user(userID: "mallory", tenantID: nil), request: Self.request(cookie: ada), redirect: "/").headerFields[.setCookie])
        #expect(await cart(sessions, cookie: mallory) == nil)
        // Ada's session ended (a new session ID on every sign-in).
        #expect(await sessions.resolve(Self.request(cookie: ada)).session == nil)
    }

    @Test func carryingOverCanBeTurnedOff() async throws {
        let sessions = sessions(StoredSessionConfiguration(carriesOverAnonymousData: false))
        let anonymous = try await anonymousCart(sessions, items: ["tea"])
        let ada = try Self.pair(try await sessions.signIn(.user(userID: "ada", tenantID: nil), request: Self.request(cookie: anonymous), redirect: "/").headerFields[.setCookie])
        #expect(await cart(sessions, cookie: ada) == nil)
        #expect(await sessions.resolve(Self.request(cookie: anonymous)).session == nil)
        #expect(await cart(sessions, cookie: anonymous) == nil)
    }

    /// On https the cookie is read only under `__Host-sesame-sid`: a planted `sesame-sid` (login CSRF: the
    /// attacker's own valid session) is ignored and never becomes the victim's session.
    @Test func aPlantedUnprefixedCookieIsIgnored() async throws {
        let sessions = sessions()
        let attacker = try await sessions.signIn(.user(userID: "attacker", tenantID: nil), request: nil, redirect: "/")
        let value = try Self.pair(attacker.headerFields[.setCookie]).drop { $0 != "=" }.dropFirst()
        #expect(try Self.pair(attacker.headerFields[.setCookie]).hasPrefix("__Host-sesame-sid="))
        let planted = await sessions.resolve(Self.request(cookie: "sesame-sid=\(value)"))
        #expect(planted.session == nil && planted.failure == nil)
        #expect(await sessions.resolve(Self.request(cookie: "__Host-sesame-sid=\(value)")).session?.subject == .user(userID: "attacker", tenantID: nil))
        // Data set on a request with only the planted cookie starts a new anonymous session, not the attacker's.
        let resolution = await sessions.resolve(Self.request(cookie: "sesame-sid=\(value)"))
        try SessionScope(resolution).run { try sessions.data.set(Cart(items: ["x"])) }
        let fields = try await sessions.commit(resolution).value.get()
        #expect(try Self.pair(fields.first?.value) != "__Host-sesame-sid=\(value)")
    }

    /// The cookie lives as long as the session, never longer: the absolute limit, or the idle limit that a
    /// sliding refresh moves (and re-issues), and at most 400 days.
    @Test func cookieMaxAgeFollowsTheSessionsExpiry() async throws {
        let sessions = sessions(StoredSessionConfiguration(authenticatedLifetime: 1_000, idleTimeout: 600, refreshInterval: 60))
        let signedIn = try await sessions.signIn(.user(userID: "ada", tenantID: nil), request: nil, redirect: "/")
        let setCookie = try #require(signedIn.headerFields[.setCookie])
        #expect(setCookie.contains("Max-Age=600;"))
        let cookie = try Self.pair(setCookie)
        // A read within the refresh interval writes nothing and sets nothing.
        clock.advance(30)
        #expect(try await sessions.commit(await sessions.resolve(Self.request(cookie: cookie))).value.get().isEmpty)
        // After it, the idle expiry slides and the cookie is re-issued with the new expiry.
        clock.advance(100)
        let refreshed = try await sessions.commit(await sessions.resolve(Self.request(cookie: cookie))).value.get()
        #expect(refreshed.map(\.value).first?.contains("Max-Age=600;") == true)
        #expect(try Self.pair(refreshed.first?.value) == cookie)
        // Near the absolute limit (1,000 s after sign-in), the cookie ends with it: 500 s at 500 s.
        clock.advance(370)
        let last = try await sessions.commit(await sessions.resolve(Self.request(cookie: cookie))).value.get()
        #expect(last.map(\.value).first?.contains("Max-Age=500;") == true)
        // A configured lifetime beyond 400 days still gets a cookie of at most 400 days.
        let long = self.sessions(StoredSessionConfiguration(authenticatedLifetime: 1_000 * 86_400))
        let longCookie = try #require(try await long.signIn(.user(userID: "bob", tenantID: nil), request: nil, redirect: "/").headerFields[.setCookie])
        #expect(longCookie.contains("Max-Age=34560000;"))
    }
}
