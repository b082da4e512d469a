import Foundation
import Sesame
import SesameTestSupport
import SesameVapor
import Synchronization
import Testing
import Vapor
import VaporTesting

/// The Vapor integration: the same behaviours as the Hummingbird tests, through Vapor's router and VaporTesting.
@Suite(.timeLimit(.minutes(3))) struct VaporIntegrationTests {
    enum AppSession: SessionSubject, Equatable {
        case user(email: String)
        case service(name: String)
    }

    struct Cart: Codable, Sendable, Equatable {
        var items: [String]
    }

    static let baseURL = "http://127.0.0.1:8080"
    /// Stored sessions of plain-http development: the cookie is `sesame-sid`, without `Secure`.
    static let developmentCookie = StoredSessionConfiguration(cookie: SessionCookie(name: "sesame-sid", baseURL: baseURL))

    /// Links the link provider "sent".
    final class Outbox: Sendable {
        let links = Mutex<[String]>([])
    }

    /// A revocation store that can only answer asynchronously (as one on a server would), over an in-memory one.
    struct AsynchronousRevocations: RevocationStore {
        let inner = MemoryRevocationStore()
        func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> {
            .catching { try await inner.isRevoked(tokenID: tokenID, subject: subject, issuedAt: issuedAt) }
        }
        func revoke(tokenID: String, expiresAt: Date) async throws { try await inner.revoke(tokenID: tokenID, expiresAt: expiresAt) }
        func revokeAll(subject: String, issuedBefore: Date) async throws { try await inner.revokeAll(subject: subject, issuedBefore: issuedBefore) }
    }

    /// An app with a magic-link provider, stateless sessions on `/api` (resolved on the event loop), the same
    /// tokens on `/waiting` behind a revocation store that must be awaited, and store-backed sessions on `/cart`.
    static func configure(_ app: Application, outbox: Outbox, store: MemorySessionStore) throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let sessions = try SessionTokens<AppSession>(keys: keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: baseURL)))
        let waitingSessions = try SessionTokens<AppSession>(keys: keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: baseURL)), revocations: AsynchronousRevocations())
        let link = LinkProvider(configuration: LinkProvider.Configuration(deliversInBackground: false)) { link, _ in
            outbox.links.withLock { $0.append(link) }
        }
        let auth = AuthHandler(
            providers: ["link": link], configuration: AuthConfiguration(baseURL: baseURL), keys: keys,
            sessions: SessionAccess(sessions) { session in
                guard case .user(let email) = session.subject else { return nil }
                return ["email": .string(email)]
            }
        ) { success in
            guard let email = success.claims["email"]?.stringValue else { throw AuthError.accessDenied }
            return AuthResponse(try await sessions.signIn(.user(email: email), request: success.request.head, redirect: baseURL + "/"))
        }
        app.addAuthHandler(auth)

        let api = app.grouped(SesameSessionMiddleware(sessions: sessions))
        api.get("whoami") { request async -> String in
            // `req.auth` and the task-local agree.
            let fromAuth = request.auth.get(AuthSession<AppSession>.self)?.subjectID ?? "none"
            let fromTaskLocal = AuthSession<AppSession>.current?.subjectID ?? "none"
            return "\(fromAuth)|\(fromTaskLocal)"
        }
        // A synchronous route closure may run after Vapor collected the body, outside the middleware's scope:
        // it reads `req.auth`.
        api.get("whoami-sync") { request -> String in
            request.auth.get(AuthSession<AppSession>.self)?.subjectID ?? "none"
        }
        // What a handler throws: an `AuthError` is answered with its status and JSON, anything else goes on to
        // Vapor's error handling.
        api.get("throws", ":kind") { request async throws -> String in
            if request.parameters.get("kind") == "auth" { throw AuthError.rateLimited }
            throw Abort(.imATeapot)
        }
        api.get("throws-sync", ":kind") { request throws -> String in
            if request.parameters.get("kind") == "auth" { throw AuthError.rateLimited }
            throw Abort(.imATeapot)
        }
        let waiting = app.grouped("waiting").grouped(SesameSessionMiddleware(sessions: waitingSessions))
        waiting.get("whoami") { request async -> String in
            "\(request.auth.get(AuthSession<AppSession>.self)?.subjectID ?? "none")|\(AuthSession<AppSession>.current?.subjectID ?? "none")"
        }
        waiting.get("whoami-sync") { request -> String in
            request.auth.get(AuthSession<AppSession>.self)?.subjectID ?? "none"
        }
        waiting.grouped(RequireSessionMiddleware(SessionRequirement<AppSession>(signInURL: "/auth/signin"))).get("required") { _ in "required" }
        api.grouped(AuthSession<AppSession>.guardMiddleware()).get("guarded") { _ in "guarded" }
        api.grouped(AuthSession<AppSession>.redirectMiddleware(path: "/login")).get("redirected") { _ in "redirected" }
        api.grouped(RequireSessionMiddleware(SessionRequirement<AppSession>(signInURL: "/auth/signin"))).get("required") { _ in "required" }
        app.grouped(SesameSessionMiddleware(sessions: sessions, requirement: SessionRequirement<AppSession>(signInURL: "/auth/signin")))
            .get("inline-required") { _ in "required" }

        let stored = StoredSessions<AppSession, Cart>(store: store, signer: SessionCookieSigner(keys: keys), configuration: Self.developmentCookie)
        let cart = app.grouped(SesameSessionMiddleware(sessions: stored))
        // Task-locals (`AuthSession.current`, `StoredSessions.data`) reach async route handlers.
        // The same routes with one more middleware between the session middleware and them: the task-locals
        // still reach the handler, and what it changed is still saved (or not, when it throws).
        for group in [cart, cart.grouped("chained").grouped(Passthrough())] {
            group.get("cart") { _ async in (stored.data.current?.items ?? []).joined(separator: ",") }
            group.post("cart") { request async throws -> String in
                let item = request.query[String.self, at: "item"] ?? "?"
                try stored.data.update { cart in cart = Cart(items: (cart?.items ?? []) + [item]) }
                // A handler that fails after changing the session saves nothing.
                if item == "limit" { throw AuthError.rateLimited }
                return "added"
            }
        }
    }

    static func withConfiguredApp(_ test: (Application, Outbox, MemorySessionStore) async throws -> Void) async throws {
        let outbox = Outbox(), store = MemorySessionStore()
        try await withApp(configure: { app in try configure(app, outbox: outbox, store: store) }) { app in
            try await test(app, outbox, store)
        }
    }

    /// The cookie a response sets under `name` (or its `__Host-` form), as `name=value`.
    static func cookie(_ response: TestingHTTPResponse, named name: String) -> String? {
        response.headers[.setCookie].first { value in
            [name, "__Host-" + name].contains { value.hasPrefix($0 + "=") && !value.hasPrefix($0 + "=;") }
        }.map { String($0.prefix { $0 != ";" }) }
    }

    static func path(_ url: String) -> String { String(url.dropFirst(baseURL.count)) }

    /// A CSRF token from the handler's csrf action, and the cookie it is bound to.
    static func csrf(_ tester: some TestingApplicationTester) async throws -> (token: String, cookie: String) {
        let csrf = try await tester.sendRequest(.GET, "auth/csrf")
        let token = try #require(try csrf.content.decode([String: String].self)["csrfToken"])
        return (token, try #require(Self.cookie(csrf, named: "sesame-csrf")))
    }

    @Test func magicLinkSignInAndGuards() async throws {
        try await Self.withConfiguredApp { app, outbox, _ in
            let tester = try app.testing()
            // Without a session: Vapor's guard says 401, its redirect middleware redirects, Sesame's requirement
            // answers APIs with 401 JSON.
            #expect(try await tester.sendRequest(.GET, "whoami").body.string == "none|none")
            #expect(try await tester.sendRequest(.GET, "guarded").status == .unauthorized)
            let redirected = try await tester.sendRequest(.GET, "redirected")
            #expect(redirected.status == .seeOther && redirected.headers.first(name: .location) == "/login")
            #expect(try await tester.sendRequest(.GET, "required").status == .unauthorized)
            // A browser navigation is sent to sign in, and back to where it was going, query included.
            for (path, back) in [("required", "%2Frequired"), ("waiting/required", "%2Fwaiting%2Frequired"), ("inline-required", "%2Finline-required")] {
                let navigation = try await tester.sendRequest(.GET, path + "?tab=2", headers: ["Accept": "text/html", "Sec-Fetch-Mode": "navigate"])
                #expect(navigation.status.code / 100 == 3)
                #expect(navigation.headers.first(name: .location) == "/auth/signin?redirect=" + back + "%3Ftab%3D2")
            }

            // Request a link (same-origin POST), follow it, get a session.
            let sent = try await tester.sendRequest(.POST, "auth/link/authorize", headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": Self.baseURL], body: ByteBuffer(string: "email=ada%40example.com"))
            #expect(sent.status == .ok)
            let link = try #require(outbox.links.withLock { $0.last })
            // In the browser that asked for it (its binding cookie): signed in at once.
            let signedIn = try await tester.sendRequest(.GET, Self.path(link), headers: ["Cookie": try #require(Self.cookie(sent, named: "sesame-link-link"))])
            #expect(signedIn.status == .found)
            let cookie = try #require(Self.cookie(signedIn, named: "sesame-session"))
            let headers: HTTPHeaders = ["Cookie": cookie]
            let subject = AppSession.user(email: "ada@example.com").subjectIdentifier
            #expect(try await tester.sendRequest(.GET, "whoami", headers: headers).body.string == "\(subject)|\(subject)")
            #expect(try await tester.sendRequest(.GET, "whoami-sync", headers: headers).body.string == subject)
            // Where the revocation store must be awaited, the middleware resolves in a task: same answers.
            #expect(try await tester.sendRequest(.GET, "waiting/whoami", headers: headers).body.string == "\(subject)|\(subject)")
            #expect(try await tester.sendRequest(.GET, "waiting/whoami-sync", headers: headers).body.string == subject)
            #expect(try await tester.sendRequest(.GET, "waiting/required", headers: headers).body.string == "required")
            #expect(try await tester.sendRequest(.GET, "waiting/required").status == .unauthorized)
            #expect(try await tester.sendRequest(.GET, "whoami-sync").body.string == "none")
            #expect(try await tester.sendRequest(.GET, "guarded", headers: headers).body.string == "guarded")
            #expect(try await tester.sendRequest(.GET, "required", headers: headers).body.string == "required")
            #expect(try await tester.sendRequest(.GET, "inline-required", headers: headers).body.string == "required")

            // The credentials are read whatever the case of the field names, across several Cookie fields, and
            // from a Bearer header whatever the case of its scheme.
            let fields = HTTPHeaders([("cookie", "theme=dark"), ("COOKIE", cookie)])
            #expect(try await tester.sendRequest(.GET, "whoami", headers: fields).body.string == "\(subject)|\(subject)")
            let token = String(cookie.drop { $0 != "=" }.dropFirst())
            let bearer = HTTPHeaders([("authorization", "bearer " + token)])
            #expect(try await tester.sendRequest(.GET, "whoami", headers: bearer).body.string == "\(subject)|\(subject)")
            let mixed = HTTPHeaders([("Authorization", "Basic YTpi"), ("Cookie", cookie)])
            #expect(try await tester.sendRequest(.GET, "whoami", headers: mixed).body.string == "\(subject)|\(subject)")
            // An AuthError from the handler is its own answer, with or without a session; other errors are
            // Vapor's to answer.
            for headers in [HTTPHeaders(), headers] {
                for route in ["throws", "throws-sync"] {
                    let limited = try await tester.sendRequest(.GET, "\(route)/auth", headers: headers)
                    #expect(limited.status == .tooManyRequests)
                    #expect(try JSONDecoder().decode([String: String].self, from: limited.body)["error"] == "rate_limited")
                    #expect(try await tester.sendRequest(.GET, "\(route)/other", headers: headers).status == .imATeapot)
                }
            }

            // The link works once; a cross-site POST is refused.
            #expect(try await tester.sendRequest(.GET, Self.path(link), headers: ["Cookie": try #require(Self.cookie(sent, named: "sesame-link-link"))]).status == .badRequest)
            let foreign = try await tester.sendRequest(.POST, "auth/link/authorize", headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"], body: ByteBuffer(string: "email=ada%40example.com"))
            #expect(foreign.status == .forbidden)
            // A forged session cookie is "no session" and is cleared.
            let forged = try await tester.sendRequest(.GET, "whoami", headers: ["Cookie": cookie + "x"])
            #expect(forged.body.string == "none|none")
            #expect(forged.headers[.setCookie].contains { $0.hasPrefix("sesame-session=;") })
        }
    }

    @Test func authJSActionsOnVapor() async throws {
        try await Self.withConfiguredApp { app, outbox, _ in
            let tester = try app.testing()
            let (token, csrfCookie) = try await Self.csrf(tester)
            let form: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded", "Origin": Self.baseURL, "Cookie": csrfCookie]
            // Without the token: 403; with it: a link.
            #expect(try await tester.sendRequest(.POST, "auth/signin/link", headers: form, body: ByteBuffer(string: "email=ada%40example.com")).status == .forbidden)
            let sent = try await tester.sendRequest(.POST, "auth/signin/link", headers: form, body: ByteBuffer(string: "email=ada%40example.com&csrfToken=\(token)"))
            #expect(sent.status == .ok)
            let binding = try #require(Self.cookie(sent, named: "sesame-link-link"))
            let signedIn = try await tester.sendRequest(.GET, Self.path(try #require(outbox.links.withLock { $0.last })), headers: ["Cookie": binding])
            let cookie = try #require(Self.cookie(signedIn, named: "sesame-session"))
            let session = try await tester.sendRequest(.GET, "auth/session", headers: ["Cookie": cookie])
            #expect(session.body.string.contains("ada@example.com"))
            var out = form
            out.replaceOrAdd(name: "Cookie", value: cookie + "; " + csrfCookie)
            let signOut = try await tester.sendRequest(.POST, "auth/signout", headers: out, body: ByteBuffer(string: "csrfToken=\(token)"))
            #expect(signOut.status == .seeOther)
            #expect(try await tester.sendRequest(.GET, "auth/session", headers: ["Cookie": cookie]).body.string == "null")
            // Bodies over the limit are refused before the handler.
            let large = try await tester.sendRequest(.POST, "auth/signin/link", headers: form, body: ByteBuffer(string: String(repeating: "a", count: 70_000)))
            #expect(large.status == .payloadTooLarge)
            #expect(large.body.string.contains("payload_too_large"))
        }
    }

    /// The Auth.js sign-in action's refusals, read from Vapor's headers: without or with a wrong CSRF token, from
    /// another origin (`Origin`, `Referer` or `Sec-Fetch-Site`), or with no origin at all: 403 with a stable code
    /// and no link sent. A GET on it is 405; a HEAD of a read-only action is answered (Vapor's server drops the
    /// body: see the live tests).
    @Test func authJSRefusalsOnVapor() async throws {
        try await Self.withConfiguredApp { app, outbox, _ in
            let tester = try app.testing()
            let (token, cookie) = try await Self.csrf(tester)
            let form = "csrfToken=\(token)&email=ada%40example.com"
            let refusals: [(body: String, headers: HTTPHeaders, code: String)] = [
                ("email=ada%40example.com", ["Cookie": cookie, "Origin": Self.baseURL], "invalid_csrf_token"),
                ("csrfToken=\(token)x&email=ada%40example.com", ["Cookie": cookie, "Origin": Self.baseURL], "invalid_csrf_token"),
                (form, ["Origin": Self.baseURL], "invalid_csrf_token"),
                (form, ["Cookie": cookie, "Origin": "https://evil.example"], "forbidden_origin"),
                (form, ["Cookie": cookie, "Origin": "null"], "forbidden_origin"),
                (form, ["Cookie": cookie], "forbidden_origin"),
                (form, ["Cookie": cookie, "Referer": "https://evil.example/page"], "forbidden_origin"),
                (form, ["Cookie": cookie, "Origin": Self.baseURL, "Sec-Fetch-Site": "cross-site"], "forbidden_origin"),
            ]
            for refusal in refusals {
                var headers = refusal.headers
                headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                let response = try await tester.sendRequest(.POST, "auth/signin/link", headers: headers, body: ByteBuffer(string: refusal.body))
                #expect(response.status == .forbidden, "\(refusal.headers)")
                #expect(try JSONDecoder().decode([String: String].self, from: response.body)["error"] == refusal.code, "\(refusal.headers)")
            }
            #expect(outbox.links.withLock { $0.isEmpty })
            #expect(try await tester.sendRequest(.GET, "auth/signin/link?email=ada%40example.com").status == .methodNotAllowed)
            let head = try await tester.sendRequest(.HEAD, "auth/providers")
            #expect(head.status == .ok)
            // A same-origin Referer without Origin is accepted.
            let sent = try await tester.sendRequest(.POST, "auth/signin/link", headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Referer": Self.baseURL + "/auth/signin"], body: ByteBuffer(string: form))
            #expect(sent.status == .ok)
            #expect(outbox.links.withLock { $0.count } == 1)
        }
    }

    @Test(arguments: ["", "chained/"]) func storedSessionsReplaceVaporSessions(prefix: String) async throws {
        try await Self.withConfiguredApp { app, _, store in
            let tester = try app.testing()
            #expect(try await tester.sendRequest(.GET, prefix + "cart").body.string == "")
            let added = try await tester.sendRequest(.POST, prefix + "cart?item=tea")
            let cookie = try #require(Self.cookie(added, named: "sesame-sid"))
            let more = try await tester.sendRequest(.POST, prefix + "cart?item=jam", headers: ["Cookie": cookie])
            #expect(more.status == .ok, "\(more.body.string) \(cookie)")
            let read = try await tester.sendRequest(.GET, prefix + "cart", headers: ["Cookie": cookie])
            #expect(read.body.string == "tea,jam", "\(read.headers)")
            // A handler that throws after changing the data: its AuthError is answered, and nothing is saved.
            let limited = try await tester.sendRequest(.POST, prefix + "cart?item=limit", headers: ["Cookie": cookie])
            #expect(limited.status == .tooManyRequests && limited.headers[.setCookie].isEmpty)
            #expect(try JSONDecoder().decode([String: String].self, from: limited.body)["error"] == "rate_limited")
            #expect(try await tester.sendRequest(.GET, prefix + "cart", headers: ["Cookie": cookie]).body.string == "tea,jam")
            // The same before there is a session: no session is created.
            let fresh = try await tester.sendRequest(.POST, prefix + "cart?item=limit")
            #expect(fresh.status == .tooManyRequests && fresh.headers[.setCookie].isEmpty)
            // The store holds one session, under a hash, not the cookie's secret.
            let secret = String(cookie.drop { $0 != "=" }.dropFirst().prefix { $0 != "." })
            #expect(try await store.get(secret) == nil)
        }
    }

    /// The session's kind and revocation, through the middleware on the event loop (an in-memory revocation
    /// store) and in a task (a store that must be awaited): another kind is 403, a revoked session is no session.
    @Test func sessionKindsAndRevocation() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let revocations = AsynchronousRevocations()
        let immediate = try SessionTokens<AppSession>(keys: keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: Self.baseURL)), revocations: MemoryRevocationStore())
        let waiting = try SessionTokens<AppSession>(keys: keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: Self.baseURL)), revocations: revocations)
        let usersOnly = SessionRequirement<AppSession>(signInURL: "/signin") { session in
            if case .user = session.subject { return true } else { return false }
        }
        try await withApp(configure: { app in
            for (prefix, sessions) in [("immediate", immediate), ("waiting", waiting)] {
                app.grouped(PathComponent(stringLiteral: prefix)).grouped(SesameSessionMiddleware(sessions: sessions, requirement: usersOnly))
                    .get("users-only") { _ async in "welcome" }
                app.grouped(PathComponent(stringLiteral: prefix)).grouped(SesameSessionMiddleware(sessions: sessions, requirement: SessionRequirement()))
                    .get("me") { _ async in AuthSession<AppSession>.current?.subjectID ?? "none" }
            }
        }) { app in
            let tester = try app.testing()
            let service = try immediate.create(.service(name: "billing"))
            let user = try immediate.create(.user(email: "ada@example.com"))
            for prefix in ["immediate", "waiting"] {
                let refused = try await tester.sendRequest(.GET, prefix + "/users-only", headers: ["Authorization": "Bearer \(service)"])
                #expect(refused.status == .forbidden, "\(prefix)")
                #expect(try JSONDecoder().decode([String: String].self, from: refused.body)["error"] == "forbidden")
                #expect(try await tester.sendRequest(.GET, prefix + "/users-only", headers: ["Authorization": "Bearer \(user)"]).body.string == "welcome")
                // Any kind passes a requirement that accepts any.
                #expect(try await tester.sendRequest(.GET, prefix + "/me", headers: ["Authorization": "Bearer \(service)"]).body.string == "service:name:billing")
            }
            // Revoked: no session (401 JSON), on both paths.
            try await immediate.revokeAll(subjectID: "user:email:ada@example.com")
            try await waiting.revokeAll(subjectID: "user:email:ada@example.com")
            for prefix in ["immediate", "waiting"] {
                let revoked = try await tester.sendRequest(.GET, prefix + "/me", headers: ["Authorization": "Bearer \(user)"])
                #expect(revoked.status == .unauthorized, "\(prefix)")
                #expect(try JSONDecoder().decode([String: String].self, from: revoked.body)["error"] == "unauthorized")
            }
        }
    }

    /// Store-backed sessions on Vapor: sign-in mints a new session ID and ends the one from before (no fixation,
    /// its data carried over), sign-out deletes it, and a store that is down fails closed with 503 (nothing lost,
    /// the cookie kept) and recovers.
    @Test func storedSessionsSignInAndAStoreThatIsDown() async throws {
        let store = CountingSessionStore()
        let sessions = StoredSessions<AppSession, Cart>(store: store, signer: SessionCookieSigner(secrets: [Array(repeating: 7, count: 32)]), configuration: Self.developmentCookie)
        try await withApp(configure: { app in
            app.get("public") { _ in "public" }
            let site = app.grouped(SesameSessionMiddleware(sessions: sessions))
            site.get("cart") { _ async in (sessions.data.current?.items ?? []).joined(separator: ",") }
            site.post("cart") { request async throws -> String in
                try sessions.data.update { cart in cart = Cart(items: (cart?.items ?? []) + [request.query[String.self, at: "item"] ?? "?"]) }
                return "added"
            }
            site.post("signin") { request async throws -> Response in
                Response(AuthResponse(try await sessions.signIn(.user(email: "ada@example.com"), request: AuthRequest(request).head, redirect: "/")))
            }
            site.post("signout") { request async throws -> Response in
                Response(AuthResponse(try await sessions.signOut(AuthRequest(request).head, redirect: "/")))
            }
            app.grouped(SesameSessionMiddleware(sessions: sessions, requirement: SessionRequirement(signInURL: "/signin")))
                .get("me") { _ async in AuthSession<AppSession>.current?.subjectID ?? "none" }
        }) { app in
            let tester = try app.testing()
            let anonymous = try #require(Self.cookie(try await tester.sendRequest(.POST, "cart?item=tea"), named: "sesame-sid"))
            let signedIn = try await tester.sendRequest(.POST, "signin", headers: ["Cookie": anonymous])
            #expect(signedIn.status == .found)
            let cookie = try #require(Self.cookie(signedIn, named: "sesame-sid"))
            #expect(cookie != anonymous)
            // The old session is gone; its data moved to the new one.
            let old = try await tester.sendRequest(.GET, "cart", headers: ["Cookie": anonymous])
            #expect(old.body.string == "")
            #expect(old.headers[.setCookie].contains { $0.hasPrefix("sesame-sid=;") })
            #expect(try await tester.sendRequest(.GET, "cart", headers: ["Cookie": cookie]).body.string == "tea")
            #expect(try await tester.sendRequest(.GET, "me", headers: ["Cookie": cookie]).body.string == "user:email:ada@example.com")

            // The store goes down: what needs the session is 503 with a stable code, and the cookie is kept.
            store.isDown.store(true, ordering: .relaxed)
            let down = try await tester.sendRequest(.GET, "me", headers: ["Cookie": cookie])
            #expect(down.status == .serviceUnavailable)
            #expect(try JSONDecoder().decode([String: String].self, from: down.body)["reason"] == "session_store_unavailable")
            #expect(down.headers[.setCookie].isEmpty)
            // A write that cannot be saved is a 503 too, not a silent loss; what does not need the store works.
            #expect(try await tester.sendRequest(.POST, "cart?item=jam").status == .serviceUnavailable)
            #expect(try await tester.sendRequest(.GET, "public").body.string == "public")
            // The store comes back: so does the session, with its data as it was.
            store.isDown.store(false, ordering: .relaxed)
            #expect(try await tester.sendRequest(.GET, "cart", headers: ["Cookie": cookie]).body.string == "tea")

            // Sign-out deletes the record and clears the cookie.
            let out = try await tester.sendRequest(.POST, "signout", headers: ["Cookie": cookie])
            #expect(out.status == .seeOther)
            #expect(out.headers[.setCookie].contains { $0.hasPrefix("sesame-sid=;") && $0.contains("Max-Age=0") })
            #expect(try await tester.sendRequest(.GET, "me", headers: ["Cookie": cookie]).status == .unauthorized)
        }
    }

    /// Sesame's CORS policy on Vapor, added to the application so that preflights reach it: only listed origins
    /// get CORS fields (with credentials), on answers and on errors alike; a preflight from another origin is 403.
    @Test func corsAllowsOnlyListedOriginsWithCredentials() async throws {
        try await withApp(configure: { app in
            app.middleware = Middlewares()
            app.middleware.use(CORSPolicyMiddleware(CORSPolicy(allowedOrigins: ["https://app.example"])), at: .beginning)
            app.middleware.use(ErrorMiddleware.default(environment: app.environment))
            app.get("cors", "data") { _ in "data" }
            app.get("cors", "missing") { _ -> String in throw Abort(.notFound) }
        }) { app in
            let tester = try app.testing()
            for path in ["cors/data", "cors/missing"] {
                let allowed = try await tester.sendRequest(.GET, path, headers: ["Origin": "https://app.example"])
                #expect(allowed.headers.first(name: "Access-Control-Allow-Origin") == "https://app.example", "\(path)")
                #expect(allowed.headers.first(name: "Access-Control-Allow-Credentials") == "true")
                #expect(allowed.headers.first(name: "Vary") == "Origin")
            }
            for origin in ["https://evil.example", "null", "https://app.example.evil.example", "http://app.example"] {
                let other = try await tester.sendRequest(.GET, "cors/data", headers: ["Origin": origin])
                #expect(other.body.string == "data")
                #expect(other.headers.first(name: "Access-Control-Allow-Origin") == nil, "\(origin)")
                #expect(other.headers.first(name: "Access-Control-Allow-Credentials") == nil)
            }
            let preflight = try await tester.sendRequest(.OPTIONS, "cors/data", headers: ["Origin": "https://app.example", "Access-Control-Request-Method": "POST"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers.first(name: "Access-Control-Allow-Origin") == "https://app.example")
            #expect(preflight.headers.first(name: "Access-Control-Allow-Methods")?.contains("POST") == true)
            let refused = try await tester.sendRequest(.OPTIONS, "cors/data", headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
            #expect(refused.status == .forbidden)
            #expect(refused.headers.first(name: "Access-Control-Allow-Origin") == nil)
        }
    }

    /// A middleware that only passes the request on.
    struct Passthrough: Middleware {
        func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
            next.respond(to: request)
        }
    }
}
