import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Sesame
import SesameHummingbird
import SesameTestSupport
import Synchronization
import Testing

/// Store-backed sessions through the Hummingbird middleware: change tracking, lifetimes, fixation, groups,
/// forged cookies and a store that goes down. The store counts what it is asked.
@Suite(.timeLimit(.minutes(3))) struct StoredSessionTests {
    struct Cart: Codable, Sendable, Equatable {
        var items: [String]
    }

    struct Setup {
        let clock = TestClock()
        let store: CountingSessionStore
        let sessions: StoredSessions<TestSession, Cart>

        init(configuration: StoredSessionConfiguration = StoredSessionConfiguration()) {
            // The test app is plain-http development: the cookie has no `__Host-` prefix and no `Secure`.
            var configuration = configuration
            configuration.cookie = SessionCookie(name: "sesame-sid", baseURL: TestApp.baseURL)
            let clock = self.clock
            store = CountingSessionStore(now: { Date(timeIntervalSince1970: clock.now) })
            sessions = StoredSessions(
                store: store, signer: SessionCookieSigner(secrets: [Array(repeating: 7, count: 32)]), configuration: configuration,
                now: { Date(timeIntervalSince1970: clock.now) })
        }

        var application: some ApplicationProtocol {
            let sessions = self.sessions
            let router = Router(context: BasicSesameRequestContext<TestSession>.self)
            router.get("/public") { _, _ in "public" }
            let site = router.group().add(middleware: SesameSessionMiddleware(sessions: sessions))
            site.get("/cart") { _, _ in (sessions.data.current?.items ?? []).joined(separator: ",") }
            site.post("/cart") { request, _ in
                let item = request.uri.queryParameters["item"].map(String.init) ?? "?"
                try sessions.data.update { cart in cart = Cart(items: (cart?.items ?? []) + [item]) }
                return "added"
            }
            site.post("/cart/same") { _, _ in
                try sessions.data.set(sessions.data.current)
                return "unchanged"
            }
            site.post("/signin") { request, _ in
                let email = request.uri.queryParameters["email"].map(String.init) ?? "ada@example.com"
                return Response(AuthResponse(try await sessions.signIn(.user(email: email), request: request.head, redirect: "/")))
            }
            site.post("/signout") { request, _ in Response(AuthResponse(try await sessions.signOut(request.head, redirect: "/"))) }
            site.group().add(middleware: RequireSessionMiddleware(SessionRequirement<TestSession>(signInURL: "/signin")))
                .get("/me") { _, _ in
                    guard case .user(let email)? = AuthSession<TestSession>.current?.subject else { return "?" }
                    return email
                }
            router.group("api").add(middleware: SesameSessionMiddleware(sessions: sessions, requirement: SessionRequirement()))
                .get("whoami") { _, _ in AuthSession<TestSession>.current.map { "\($0.subject)" } ?? "none" }
            return Application(router: router)
        }
    }

    static func cookie(_ response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix("sesame-sid=") && !$0.hasPrefix("sesame-sid=;") }
            .map { String($0.prefix { $0 != ";" }) }
    }

    // MARK: Change tracking

    @Test func readOnlyRequestsReadOnceAndWriteNothing() async throws {
        let setup = Setup()
        try await setup.application.test(.router) { client in
            // No cookie and no data: no session, no store access at all.
            let empty = try await client.execute(uri: "/cart", method: .get)
            #expect(String(buffer: empty.body) == "")
            #expect(Self.cookie(empty) == nil)
            #expect(setup.store.counts == (0, 0, 0))

            // Storing data starts an anonymous session: one write, one cookie.
            let added = try await client.execute(uri: "/cart?item=tea", method: .post)
            let cookie = try #require(Self.cookie(added))
            #expect(added.headers[values: .setCookie].first { $0.hasPrefix("sesame-sid=") }?.contains("HttpOnly; SameSite=Lax") == true)
            #expect(setup.store.counts == (0, 1, 0))
            // The store holds no secret: its key is the SHA-256 of the cookie's secret, and the cookie is signed.
            let secret = try #require(SessionCookieSigner(secrets: [Array(repeating: 7, count: 32)]).secret(fromCookie: String(cookie.dropFirst("sesame-sid=".count))))
            #expect(secret.count == 32)
            #expect(try await setup.store.inner.get(SessionCookieSigner.storeKey(for: secret)) != nil)

            // Reading: exactly one store read, zero writes, no new cookie.
            setup.store.resetCounts()
            let read = try await client.execute(uri: "/cart", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: read.body) == "tea")
            #expect(setup.store.counts == (1, 0, 0))
            #expect(read.headers[.setCookie] == nil)

            // Setting the same value again is not a change.
            setup.store.resetCounts()
            _ = try await client.execute(uri: "/cart/same", method: .post, headers: [.cookie: cookie])
            #expect(setup.store.counts == (1, 0, 0))

            // A real change: one read, one write, same cookie.
            setup.store.resetCounts()
            let more = try await client.execute(uri: "/cart?item=jam", method: .post, headers: [.cookie: cookie])
            #expect(setup.store.counts == (1, 1, 0))
            #expect(Self.cookie(more) == nil)
            let after = try await client.execute(uri: "/cart", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: after.body) == "tea,jam")
        }
    }

    // MARK: Sign-in, fixation, sign-out

    @Test func signInMintsANewSessionAndEndsThePreAuthenticationOne() async throws {
        let setup = Setup()
        try await setup.application.test(.router) { client in
            let anonymous = try #require(Self.cookie(try await client.execute(uri: "/cart?item=tea", method: .post)))
            let signedIn = try await client.execute(uri: "/signin?email=ada@example.com", method: .post, headers: [.cookie: anonymous])
            #expect(signedIn.status == .found)
            let cookie = try #require(Self.cookie(signedIn))
            #expect(cookie != anonymous)
            // The old session is gone (fixation); its data moved to the new one.
            let old = try await client.execute(uri: "/cart", method: .get, headers: [.cookie: anonymous])
            #expect(String(buffer: old.body) == "")
            #expect(old.headers[values: .setCookie].contains { $0.hasPrefix("sesame-sid=;") })
            #expect(String(buffer: try await client.execute(uri: "/cart", method: .get, headers: [.cookie: cookie]).body) == "tea")
            #expect(String(buffer: try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie]).body) == "ada@example.com")

            // Signing in again, even as the same person, mints yet another ID.
            let again = try #require(Self.cookie(try await client.execute(uri: "/signin", method: .post, headers: [.cookie: cookie])))
            #expect(again != cookie)
            #expect(try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie, .accept: "application/json"]).status == .unauthorized)

            // Sign-out deletes the record and clears the cookie.
            let out = try await client.execute(uri: "/signout", method: .post, headers: [.cookie: again])
            #expect(out.status == .seeOther)
            #expect(out.headers[values: .setCookie].contains { $0.hasPrefix("sesame-sid=;") && $0.contains("Max-Age=0") })
            #expect(try await client.execute(uri: "/me", method: .get, headers: [.cookie: again, .accept: "application/json"]).status == .unauthorized)
        }
    }

    @Test func groupsListAndTerminateEverySessionOfASubject() async throws {
        let setup = Setup()
        try await setup.application.test(.router) { client in
            var cookies: [String] = []
            for _ in 0..<3 {
                cookies.append(try #require(Self.cookie(try await client.execute(uri: "/signin?email=ada@example.com", method: .post))))
            }
            let bob = try #require(Self.cookie(try await client.execute(uri: "/signin?email=bob@example.com", method: .post)))
            let adaID = TestSession.user(email: "ada@example.com").subjectIdentifier
            let listed = try await setup.sessions.sessions(subjectID: adaID)
            #expect(listed.count == 3)
            #expect(listed.allSatisfy { $0.subject == .user(email: "ada@example.com") })

            // End one of them.
            try await setup.sessions.terminate(listed[0])
            #expect(try await setup.sessions.sessions(subjectID: adaID).count == 2)
            // Sign out everywhere.
            #expect(try await setup.sessions.terminateAll(subjectID: adaID) == 2)
            for cookie in cookies {
                #expect(try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie, .accept: "application/json"]).status == .unauthorized)
            }
            #expect(String(buffer: try await client.execute(uri: "/me", method: .get, headers: [.cookie: bob]).body) == "bob@example.com")
        }
    }

    // MARK: Lifetimes

    @Test func anonymousSessionsLiveTheInitialLifetime() async throws {
        let setup = Setup()
        try await setup.application.test(.router) { client in
            let cookie = try #require(Self.cookie(try await client.execute(uri: "/cart?item=tea", method: .post)))
            #expect(try await client.execute(uri: "/cart", method: .get, headers: [.cookie: cookie]).headers[values: .setCookie].isEmpty)
            setup.clock.advance(5 * 60 + 1)
            let expired = try await client.execute(uri: "/cart", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: expired.body) == "")
            #expect(expired.headers[values: .setCookie].contains { $0.hasPrefix("sesame-sid=;") })
        }
    }

    @Test func signedInSessionsEnforceBothIdleAndAbsoluteLimits() async throws {
        let setup = Setup(configuration: StoredSessionConfiguration(authenticatedLifetime: 3600, idleTimeout: 600, refreshInterval: 60))
        try await setup.application.test(.router) { client in
            let cookie = try #require(Self.cookie(try await client.execute(uri: "/signin", method: .post)))
            // Used every 5 minutes, the session slides; the expiry moves at most once per refresh interval.
            setup.store.resetCounts()
            _ = try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie])
            #expect(setup.store.counts.sets == 0)
            for _ in 0..<11 {
                setup.clock.advance(300)
                #expect(try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie]).status == .ok)
                _ = try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie])
            }
            #expect(setup.store.counts.sets == 11)
            // At 55 minutes it is still alive; the absolute limit (60 minutes) ends it however active it is.
            setup.clock.advance(300)
            #expect(try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie, .accept: "application/json"]).status == .unauthorized)

            // Idle for longer than the idle timeout: gone.
            let idle = try #require(Self.cookie(try await client.execute(uri: "/signin", method: .post)))
            setup.clock.advance(601)
            #expect(try await client.execute(uri: "/me", method: .get, headers: [.cookie: idle, .accept: "application/json"]).status == .unauthorized)
        }
    }

    // MARK: Bad cookies and a store that is down

    @Test(arguments: [
        "sesame-sid=garbage",
        "sesame-sid=" + String(repeating: "A", count: 43) + "." + String(repeating: "A", count: 43),
        "sesame-sid=" + String(repeating: "A", count: 4000),
        "sesame-sid=%00%01",
    ])
    func forgedOrMalformedCookiesNeverReachTheStore(_ cookie: String) async throws {
        let setup = Setup()
        try await setup.application.test(.router) { client in
            let response = try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie, .accept: "application/json"])
            #expect(response.status == .unauthorized)
            #expect(response.headers[values: .setCookie].contains { $0.hasPrefix("sesame-sid=;") })
            #expect(setup.store.counts == (0, 0, 0))
        }
    }

    @Test func aCookieSignedWithAnotherKeyIsRefusedAndRotationKeepsOldCookies() async throws {
        let setup = Setup()
        let otherKey = SessionCookieSigner(secrets: [Array(repeating: 9, count: 32)])
        let forged = "sesame-sid=" + otherKey.cookieValue(for: SessionCookieSigner.newSecret())
        try await setup.application.test(.router) { client in
            let response = try await client.execute(uri: "/cart", method: .get, headers: [.cookie: forged])
            #expect(response.headers[values: .setCookie].contains { $0.hasPrefix("sesame-sid=;") })
            #expect(setup.store.counts.gets == 0)
        }
        // A signer with a new first key still accepts cookies signed by the old one.
        let rotated = SessionCookieSigner(secrets: [Array(repeating: 9, count: 32), Array(repeating: 7, count: 32)])
        let secret = SessionCookieSigner.newSecret()
        let old = SessionCookieSigner(secrets: [Array(repeating: 7, count: 32)]).cookieValue(for: secret)
        #expect(rotated.secret(fromCookie: old) == secret)
        #expect(rotated.cookieValue(for: secret) != old)
    }

    @Test func aStoreThatIsDownFailsClosedAndRecovers() async throws {
        let setup = Setup()
        try await setup.application.test(.router) { client in
            let cookie = try #require(Self.cookie(try await client.execute(uri: "/signin", method: .post)))
            setup.store.isDown.store(true, ordering: .relaxed)
            // What needs the session: 503 with a stable code, and the cookie is kept.
            let api = try await client.execute(uri: "/api/whoami", method: .get, headers: [.cookie: cookie])
            #expect(api.status == .serviceUnavailable)
            #expect(api.json?["reason"] == "session_store_unavailable")
            #expect(api.headers[values: .setCookie].isEmpty)
            // A write that cannot be saved is a 503 too, not a silent loss.
            let write = try await client.execute(uri: "/cart?item=tea", method: .post)
            #expect(write.status == .serviceUnavailable)
            // What does not need it keeps working.
            #expect(try await client.execute(uri: "/public", method: .get).status == .ok)
            // The store comes back: so does the session.
            setup.store.isDown.store(false, ordering: .relaxed)
            #expect(String(buffer: try await client.execute(uri: "/me", method: .get, headers: [.cookie: cookie]).body) == "ada@example.com")
        }
    }
}
