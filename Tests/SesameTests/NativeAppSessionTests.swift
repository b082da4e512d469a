import Crypto
import Foundation
import HTTPTypes
import SesameTestSupport
import Synchronization
import MetricsTestKit
import Testing

@testable import Sesame

/// Native-app sessions through the handler: the browser part (`native/authorize`, `native/complete`), the token
/// endpoint (code exchange with PKCE, refresh rotation with reuse detection) and revocation, rejections first.
@Suite struct NativeAppSessionTests {
    /// A clock the tests move.
    final class Clock: Sendable {
        let seconds = Mutex<Double>(1_900_000_000)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var date: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
    }

    static let origin = "https://app.example"
    static let redirectURI = "com.example.app:/signed-in"
    let clock = Clock()
    let tokens: SessionTokens<AppSession>
    let store: MemorySessionStore
    let native: NativeAppSessions<AppSession>
    let handler: AuthHandler
    let log = LogCapture()
    let metrics = TestMetrics()

    init() throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let clock = clock
        tokens = try SessionTokens<AppSession>(
            keys: keys, configuration: SessionConfiguration(cookie: SessionCookie(name: "app-session", baseURL: Self.origin)),
            revocations: MemoryRevocationStore(now: { clock.seconds.withLock { $0 } }), now: { clock.seconds.withLock { $0 } })
        store = MemorySessionStore(now: { clock.date })
        native = try NativeAppSessions(
            tokens: tokens, store: store,
            configuration: NativeAppConfiguration(clients: [
                NativeAppClient(id: "ios", redirectURIs: [Self.redirectURI]),
                NativeAppClient(id: "android", redirectURIs: ["com.example.android:/cb"]),
            ], metrics: SesameMetrics(factory: metrics)),
            logger: log.logger("native"), now: { clock.date })
        let tokens = tokens
        handler = AuthHandler(
            providers: [:], configuration: AuthConfiguration(baseURL: Self.origin), keys: keys, nativeApps: NativeAppAccess(native), logger: log.logger("auth")
        ) { success in AuthResponse(try tokens.cookie(.user(userID: "u", tenantID: nil), redirect: "/")) }
    }

    // MARK: Helpers

    /// A PKCE pair: a verifier and its S256 challenge.
    static func pkce() -> (verifier: String, challenge: String) {
        let verifier = RandomToken.make(byteCount: 32)
        return (verifier, Base64URL.encode(Array(SHA256.hash(data: Array(verifier.utf8)))))
    }

    func get(_ path: String, cookies: [String] = [], browser: Bool = true, bearer: String? = nil, method: HTTPRequest.Method = .get) async -> AuthResponse {
        var head = HTTPRequest(method: method, scheme: "https", authority: "app.example", path: path)
        if let bearer { head.headerFields[.authorization] = "Bearer " + bearer }
        if browser {
            head.headerFields[HTTPField.Name("Sec-Fetch-Mode")!] = "navigate"
            head.headerFields[.accept] = "text/html"
        }
        if !cookies.isEmpty { head.headerFields[.cookie] = cookies.joined(separator: "; ") }
        return await handler.handle(AuthRequest(head: head))
    }

    func post(_ path: String, _ fields: [(String, String)]) async -> AuthResponse {
        var head = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: path)
        head.headerFields[.contentType] = "application/x-www-form-urlencoded"
        return await handler.handle(AuthRequest(head: head, body: Array(URLEncodedForm(fields.map { (name: $0.0, value: $0.1) }).encoded.utf8)))
    }

    static func json(_ response: AuthResponse) -> JSONObject { (try? JSONValue(parsing: response.body))?.objectValue ?? [:] }

    static func cookie(_ response: AuthResponse, named name: String) -> String? {
        response.head.headerFields[values: .setCookie].first { $0.hasPrefix(name + "=") }.map { String($0.prefix { $0 != ";" }) }
    }

    func authorizePath(client: String = "ios", redirect: String = redirectURI, challenge: String, state: String = "st-1", method: String = "S256") -> String {
        var path = "/auth/native/authorize"
        for (name, value) in [("client_id", client), ("redirect_uri", redirect), ("code_challenge", challenge), ("code_challenge_method", method), ("state", state), ("response_type", "code")] {
            path = URLEncodedForm.appending(name: name, value: value, to: path)
        }
        return path
    }

    /// The whole browser part: start, a sign-in after it, the code at the redirect URI.
    func code(challenge: String, subject: AppSession = .user(userID: "ada", tenantID: nil)) async throws -> String {
        let started = await get(authorizePath(challenge: challenge))
        let flow = try #require(Self.cookie(started, named: "__Host-sesame-native"))
        clock.advance(1)
        let session = "__Host-app-session=" + (try tokens.create(subject))
        let done = await get("/auth/native/complete", cookies: [flow, session])
        #expect(done.head.status == .seeOther)
        let location = try #require(done.head.headerFields[.location])
        #expect(location.hasPrefix(Self.redirectURI + "?"))
        let query = URLEncodedForm(parsing: String(location.drop { $0 != "?" }.dropFirst()))
        #expect(query["state"] == "st-1")
        return try #require(query["code"])
    }

    func exchange(_ code: String, verifier: String, client: String = "ios", redirect: String = redirectURI) async -> AuthResponse {
        await post("/auth/token", [("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier), ("client_id", client), ("redirect_uri", redirect)])
    }

    func refresh(_ token: String, client: String = "ios") async -> AuthResponse {
        await post("/auth/token", [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", client)])
    }

    /// A signed-in app: its first access and refresh tokens.
    func signedInApp() async throws -> (access: String, refresh: String) {
        let pkce = Self.pkce()
        let response = await exchange(try await code(challenge: pkce.challenge), verifier: pkce.verifier)
        #expect(response.head.status == .ok)
        let body = Self.json(response)
        return (try #require(body["access_token"]?.stringValue), try #require(body["refresh_token"]?.stringValue))
    }

    func isValid(_ access: String) async -> Bool { (try? await tokens.verify(access)) != nil }

    func families(_ subjectID: String = AppSession.user(userID: "ada", tenantID: nil).subjectIdentifier) async throws -> Int {
        try await native.families(subjectID: subjectID).count
    }

    // MARK: Start: rejections

    /// An unknown app or a redirect URI that is not exactly one of its own: the error page, never a redirect to it,
    /// no cookie.
    @Test(arguments: [
        ("evil", redirectURI, "invalid_client"),
        ("ios", "com.example.app:/signed-in/extra", "invalid_redirect_uri"),
        ("ios", "com.example.app:/signed-i", "invalid_redirect_uri"),
        ("ios", "https://evil.example/cb", "invalid_redirect_uri"),
        ("ios", "com.example.android:/cb", "invalid_redirect_uri"),
    ])
    func anUnknownAppOrRedirectIsRefusedWithoutRedirecting(client: String, redirect: String, code: String) async {
        let response = await get(authorizePath(client: client, redirect: redirect, challenge: Self.pkce().challenge))
        #expect(response.head.headerFields[.location] == "/auth/error?error=\(code)")
        #expect(response.head.headerFields[values: .setCookie].isEmpty)
        let api = await get(authorizePath(client: client, redirect: redirect, challenge: Self.pkce().challenge), browser: false)
        #expect(Self.json(api)["error"]?.stringValue == code)
        #expect(api.head.status.code == (code == "invalid_client" ? 401 : 400))
    }

    /// PKCE is required (S256 only), and so is `state`.
    @Test func pkceAndStateAreRequired() async {
        let good = Self.pkce().challenge
        for path in [
            authorizePath(challenge: good, method: "plain"),
            authorizePath(challenge: "short", method: "S256"),
            authorizePath(challenge: good + "A"),
            authorizePath(challenge: good, state: ""),
            authorizePath(challenge: good, state: String(repeating: "s", count: 513)),
            "/auth/native/authorize?client_id=ios&redirect_uri=com.example.app%3A%2Fsigned-in&state=x",
        ] {
            let response = await get(path, browser: false)
            #expect(Self.json(response)["error"]?.stringValue == "invalid_request", "\(path)")
            #expect(response.head.headerFields[values: .setCookie].isEmpty)
        }
        #expect(await post("/auth/native/authorize", []).head.status == .methodNotAllowed)
        #expect(await get("/auth/native/other", browser: false).head.status == .notFound)
    }

    /// A good start: the sign-in page (coming back to the code step) and the sealed, HttpOnly, Lax cookie.
    @Test func aGoodStartGoesToSignIn() async throws {
        let response = await get(authorizePath(challenge: Self.pkce().challenge))
        #expect(response.head.status == .seeOther)
        #expect(response.head.headerFields[.location] == "https://app.example/auth/signin?callbackUrl=%2Fauth%2Fnative%2Fcomplete")
        let cookie = try #require(response.head.headerFields[values: .setCookie].first)
        #expect(cookie.hasPrefix("__Host-sesame-native=") && cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax"))
        #expect(!cookie.contains(Self.redirectURI) && !cookie.contains("st-1"))
    }

    // MARK: Code: rejections

    /// No code without the start's cookie, or with a forged one; and none for a browser session older than the
    /// start (an app does not sign in silently on an old session): the sign-in page instead.
    @Test func theCodeNeedsTheStartAndAFreshSignIn() async throws {
        let session = "__Host-app-session=" + (try tokens.create(.user(userID: "ada", tenantID: nil)))
        #expect(await get("/auth/native/complete", cookies: [session]).head.headerFields[.location] == "/auth/error?error=invalid_request")
        #expect(await get("/auth/native/complete", cookies: [session, "__Host-sesame-native=" + String(repeating: "A", count: 80)]).head.headerFields[.location]
            == "/auth/error?error=invalid_request")
        clock.advance(2)
        let started = await get(authorizePath(challenge: Self.pkce().challenge))
        let flow = try #require(Self.cookie(started, named: "__Host-sesame-native"))
        // No session, then the old session: back to sign-in, no code.
        for cookies in [[flow], [flow, session]] {
            let response = await get("/auth/native/complete", cookies: cookies)
            #expect(response.head.headerFields[.location]?.hasPrefix("https://app.example/auth/signin?callbackUrl=") == true)
        }
        // The start expires.
        clock.advance(601)
        let fresh = "__Host-app-session=" + (try tokens.create(.user(userID: "ada", tenantID: nil)))
        #expect(await get("/auth/native/complete", cookies: [flow, fresh]).head.headerFields[.location] == "/auth/error?error=invalid_request")
    }

    /// An app's access token is no browser sign-in: neither as a cookie nor as `Bearer` does it earn a code (a
    /// stolen one would otherwise start a family of its own); nor does a HEAD request.
    @Test func anAccessTokenCannotCompleteASignIn() async throws {
        let pkce = Self.pkce()
        let started = await get(authorizePath(challenge: pkce.challenge))
        let flow = try #require(Self.cookie(started, named: "__Host-sesame-native"))
        let app = try await signedInApp()
        for response in [
            await get("/auth/native/complete", cookies: [flow, "__Host-app-session=" + app.access]),
            await get("/auth/native/complete", cookies: [flow], bearer: app.access),
        ] {
            #expect(response.head.headerFields[.location]?.hasPrefix("https://app.example/auth/signin?") == true)
        }
        let session = "__Host-app-session=" + (try tokens.create(.user(userID: "ada", tenantID: nil)))
        #expect(await get("/auth/native/complete", cookies: [flow, session], browser: false, method: .head).head.status == .methodNotAllowed)
        #expect(try await families() == 1)
    }

    // MARK: Exchange: rejections

    /// A wrong verifier spends the code; a replayed code, another app, another redirect URI, an unknown app, a
    /// malformed verifier and an unknown grant are refused, each with its RFC 6749 code.
    @Test func codeExchangeRejections() async throws {
        let pkce = Self.pkce()
        let wrong = await exchange(try await code(challenge: pkce.challenge), verifier: Self.pkce().verifier)
        #expect(wrong.head.status == .badRequest && Self.json(wrong)["error"]?.stringValue == "invalid_grant")

        let spent = try await code(challenge: pkce.challenge)
        #expect(Self.json(await exchange(spent, verifier: Self.pkce().verifier))["error"]?.stringValue == "invalid_grant")
        #expect(Self.json(await exchange(spent, verifier: pkce.verifier))["error"]?.stringValue == "invalid_grant")

        // A replayed code: refused, and the tokens the first exchange issued are revoked (someone intercepted it).
        let replayed = try await code(challenge: pkce.challenge)
        let issued = Self.json(await exchange(replayed, verifier: pkce.verifier))
        let issuedAccess = try #require(issued["access_token"]?.stringValue)
        #expect(await isValid(issuedAccess))
        #expect(Self.json(await exchange(replayed, verifier: pkce.verifier))["error"]?.stringValue == "invalid_grant")
        #expect(await isValid(issuedAccess) == false)
        #expect(Self.json(await refresh(try #require(issued["refresh_token"]?.stringValue)))["error"]?.stringValue == "invalid_grant")

        let other = try await code(challenge: pkce.challenge)
        #expect(Self.json(await exchange(other, verifier: pkce.verifier, client: "android", redirect: "com.example.android:/cb"))["error"]?.stringValue == "invalid_grant")
        let redirected = try await code(challenge: pkce.challenge)
        #expect(Self.json(await exchange(redirected, verifier: pkce.verifier, redirect: "com.example.app:/other"))["error"]?.stringValue == "invalid_grant")

        let unknownClient = await exchange(try await code(challenge: pkce.challenge), verifier: pkce.verifier, client: "evil")
        #expect(unknownClient.head.status == .unauthorized && Self.json(unknownClient)["error"]?.stringValue == "invalid_client")
        #expect(Self.json(await exchange(try await code(challenge: pkce.challenge), verifier: "short"))["error"]?.stringValue == "invalid_request")
        #expect(Self.json(await exchange(String(repeating: "A", count: 43), verifier: pkce.verifier))["error"]?.stringValue == "invalid_grant")
        #expect(Self.json(await exchange("not a code", verifier: pkce.verifier))["error"]?.stringValue == "invalid_grant")
        #expect(Self.json(await post("/auth/token", [("grant_type", "password"), ("client_id", "ios")]))["error"]?.stringValue == "unsupported_grant_type")
        #expect(Self.json(await post("/auth/token", [("client_id", "ios")]))["error"]?.stringValue == "invalid_request")
        #expect(await get("/auth/token", browser: false).head.status == .methodNotAllowed)
        // Refusals are not cached either.
        #expect(await post("/auth/token", [("client_id", "ios")]).head.headerFields[.cacheControl] == "no-store")
        // Nothing of this left a family.
        #expect(try await families() == 0)
    }

    /// The code expires.
    @Test func anExpiredCodeIsRefused() async throws {
        let pkce = Self.pkce()
        let code = try await code(challenge: pkce.challenge)
        clock.advance(61)
        #expect(Self.json(await exchange(code, verifier: pkce.verifier))["error"]?.stringValue == "invalid_grant")
    }

    /// A good exchange: the OAuth token response, not cached; the access token is a session of the signed-in
    /// subject, valid for 15 minutes.
    @Test func aGoodExchange() async throws {
        let pkce = Self.pkce()
        let response = await exchange(try await code(challenge: pkce.challenge), verifier: pkce.verifier)
        #expect(response.head.status == .ok)
        #expect(response.head.headerFields[.cacheControl] == "no-store")
        let body = Self.json(response)
        #expect(body["token_type"]?.stringValue == "Bearer" && body["expires_in"]?.int64Value == 900)
        #expect(body["refresh_token_expires_in"]?.int64Value == Int64(30 * 86_400))
        let refresh = try #require(body["refresh_token"]?.stringValue)
        #expect(refresh.hasPrefix("sr1.") && refresh.count == 4 + 22 + 1 + 43)
        let session = try await tokens.verify(try #require(body["access_token"]?.stringValue))
        #expect(session.subject == .user(userID: "ada", tenantID: nil))
        #expect(session.expiresAt.timeIntervalSince(clock.date) == 900)
        // The store holds the family under hashes: neither the token nor its secret appears in it.
        let records = try await store.listGroup("native:" + session.subjectID)
        #expect(records.count == 1)
        let stored = String(decoding: records[0].value, as: UTF8.self)
        #expect(!stored.contains(String(refresh.dropFirst(4 + 23))) && !records[0].key.contains(String(refresh.dropFirst(4).prefix(22))))
    }

    // MARK: Refresh

    /// Each refresh rotates: a new pair, and the previous refresh token (after the reuse window) is a stolen copy.
    @Test func refreshRotatesAndReuseAfterTheWindowRevokesTheFamily() async throws {
        let first = try await signedInApp()
        let second = Self.json(await refresh(first.refresh))
        let refreshed = try #require(second["refresh_token"]?.stringValue)
        let access = try #require(second["access_token"]?.stringValue)
        #expect(refreshed != first.refresh && access != first.access)
        #expect(await isValid(access))
        #expect(await isValid(first.access))
        clock.advance(6)
        // The rotated-out token again, after the window: refused, and the family ends with its access tokens.
        let reuse = await refresh(first.refresh)
        #expect(reuse.head.status == .badRequest && Self.json(reuse)["error"]?.stringValue == "invalid_grant")
        #expect(try await families() == 0)
        #expect(await isValid(access) == false)
        #expect(await isValid(first.access) == false)
        #expect(Self.json(await refresh(refreshed))["error"]?.stringValue == "invalid_grant")
        // Reuse is counted once (the later refusal finds no family: not reuse), the store's operations are timed.
        #expect(metrics.counterTotal(label: SesameMetrics.Name.refreshTokenReuse) == 1)
        #expect(try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "MemorySessionStore"), ("operation", "replace")]).values.count >= 1)
        MetricsTests.expectNoPersonalLabels(metrics, secrets: [first.refresh, first.access, refreshed, access, "ada"])
    }

    /// A retry within the window (the app lost the answer) gets the same pair; the family goes on.
    @Test func aRetryWithinTheWindowGetsTheSamePair() async throws {
        let first = try await signedInApp()
        let answer = Self.json(await refresh(first.refresh))
        clock.advance(4)
        let retried = Self.json(await refresh(first.refresh))
        #expect(retried["refresh_token"] == answer["refresh_token"] && retried["access_token"] == answer["access_token"])
        #expect(retried["expires_in"]?.int64Value == 896)
        let next = Self.json(await refresh(try #require(answer["refresh_token"]?.stringValue)))
        #expect(next["refresh_token"]?.stringValue != nil)
        #expect(try await families() == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.refreshTokenReuse) == 0)
    }

    /// 32 refreshes with one token at once: one rotation, every caller gets the same pair, one family lives on.
    @Test func concurrentRefreshesWithOneTokenLeaveOneFamily() async throws {
        let first = try await signedInApp()
        let answers = await withTaskGroup(of: JSONObject.self) { group in
            for _ in 0..<32 { group.addTask { Self.json(await self.refresh(first.refresh)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(answers.compactMap { $0["refresh_token"]?.stringValue }).count == 1)
        #expect(Set(answers.compactMap { $0["access_token"]?.stringValue }).count == 1)
        #expect(answers.allSatisfy { $0["error"] == nil })
        #expect(try await families() == 1)
        let next = Self.json(await refresh(try #require(answers[0]["refresh_token"]?.stringValue)))
        #expect(next["access_token"] != nil)
    }

    /// Forged, malformed, expired and foreign refresh tokens: refused; only a token of the family itself (a
    /// copy) ends it.
    @Test func forgedExpiredAndForeignRefreshTokens() async throws {
        let app = try await signedInApp()
        let family = String(app.refresh.dropFirst(4).prefix(22))
        for forged in [
            "sr1." + RandomToken.make(byteCount: 16) + "." + RandomToken.make(byteCount: 32),
            "garbage", "", app.refresh + "A", String(app.refresh.dropLast()), app.refresh.replacingOccurrences(of: "sr1.", with: "sr2."),
        ] {
            #expect(Self.json(await refresh(forged))["error"]?.stringValue == "invalid_grant", "\(forged)")
        }
        #expect(try await families() == 1)
        // Another app presenting it: refused, the family untouched.
        #expect(Self.json(await refresh(app.refresh, client: "android"))["error"]?.stringValue == "invalid_grant")
        #expect(Self.json(await refresh(app.refresh, client: "evil"))["error"]?.stringValue == "invalid_client")
        #expect(try await families() == 1)
        // A wrong secret under the family's ID can only come from a holder of an old token: the family ends.
        #expect(Self.json(await refresh("sr1." + family + "." + RandomToken.make(byteCount: 32)))["error"]?.stringValue == "invalid_grant")
        #expect(try await families() == 0)
        #expect(await isValid(app.access) == false)

        // A family outlives no absolute lifetime, however often it rotates.
        var current = try await signedInApp().refresh
        for _ in 0..<3 {
            clock.advance(10 * 86_400 - 1)
            current = try #require(Self.json(await refresh(current))["refresh_token"]?.stringValue)
        }
        clock.advance(10)
        #expect(Self.json(await refresh(current))["error"]?.stringValue == "invalid_grant")
    }

    /// No code, verifier, access or refresh token reaches the logs, through a sign-in, refreshes, refusals, a
    /// replayed code and a reused refresh token (checklist 5).
    @Test func noSecretIsLogged() async throws {
        let pkce = Self.pkce()
        let code = try await code(challenge: pkce.challenge)
        let first = Self.json(await exchange(code, verifier: pkce.verifier))
        _ = await exchange(code, verifier: pkce.verifier)
        let app = try await signedInApp()
        let second = Self.json(await refresh(app.refresh))
        clock.advance(6)
        _ = await refresh(app.refresh)
        _ = await refresh("sr1." + RandomToken.make(byteCount: 16) + "." + RandomToken.make(byteCount: 32))
        let secrets = [code, pkce.verifier, app.access, app.refresh, String(app.refresh.suffix(43))]
            + [first, second].flatMap { [$0["access_token"]?.stringValue, $0["refresh_token"]?.stringValue].compactMap { $0 } }
        let lines = log.lines
        #expect(lines.contains { $0.contains("reuse") } && lines.contains { $0.contains("replayed") })
        for secret in secrets {
            #expect(!lines.contains { $0.contains(secret) }, "a secret in the log")
        }
    }

    // MARK: Revocation

    /// The revocation endpoint: a refresh token ends its family and its access tokens; an access token is
    /// revoked alone; unknown tokens are answered the same.
    @Test func revocationEndpoint() async throws {
        let app = try await signedInApp()
        let other = try await signedInApp()
        #expect(try await families() == 2)
        let revoked = await post("/auth/revoke", [("token", app.refresh), ("client_id", "ios")])
        #expect(revoked.head.status == .ok)
        #expect(try await families() == 1)
        #expect(await isValid(app.access) == false)
        #expect(await isValid(other.access))
        #expect(Self.json(await refresh(app.refresh))["error"]?.stringValue == "invalid_grant")
        // An access token alone.
        #expect(await post("/auth/revoke", [("token", other.access), ("client_id", "ios")]).head.status == .ok)
        #expect(await isValid(other.access) == false)
        #expect(Self.json(await refresh(other.refresh))["access_token"] != nil)
        // Unknown tokens: the same answer; missing ones and unknown apps are refused.
        #expect(await post("/auth/revoke", [("token", "sr1." + RandomToken.make(byteCount: 16) + "." + RandomToken.make(byteCount: 32)), ("client_id", "ios")]).head.status == .ok)
        #expect(await post("/auth/revoke", [("token", "whatever"), ("client_id", "ios")]).head.status == .ok)
        #expect(Self.json(await post("/auth/revoke", [("client_id", "ios")]))["error"]?.stringValue == "invalid_request")
        #expect(Self.json(await post("/auth/revoke", [("token", other.refresh), ("client_id", "evil")]))["error"]?.stringValue == "invalid_client")
        // An older token of a family ends it too (as a refresh with it would); the store holds no family ID to forge
        // one from.
        let live = try await signedInApp()
        let rotated = try #require(Self.json(await refresh(live.refresh))["refresh_token"]?.stringValue)
        _ = try #require(Self.json(await refresh(rotated))["refresh_token"]?.stringValue)
        #expect(await post("/auth/revoke", [("token", live.refresh), ("client_id", "ios")]).head.status == .ok)
        #expect(await isValid(live.access) == false)
        for record in try await store.listGroup("native:" + AppSession.user(userID: "ada", tenantID: nil).subjectIdentifier) {
            #expect(!String(decoding: record.value, as: UTF8.self).contains(String(live.refresh.dropFirst(4).prefix(22))))
        }
    }

    /// "Sign out everywhere" and a deleted user: every family of the subject ends, with its access tokens; other
    /// subjects' stay.
    @Test func revokeAllEndsEveryFamilyOfTheSubject() async throws {
        let first = try await signedInApp()
        let second = try await signedInApp()
        let pkce = Self.pkce()
        let grace = Self.json(await exchange(try await code(challenge: pkce.challenge, subject: .user(userID: "grace", tenantID: nil)), verifier: pkce.verifier))
        try await native.revokeAll(subjectID: AppSession.user(userID: "ada", tenantID: nil).subjectIdentifier)
        #expect(try await families() == 0)
        for app in [first, second] {
            #expect(await isValid(app.access) == false)
            #expect(Self.json(await refresh(app.refresh))["error"]?.stringValue == "invalid_grant")
        }
        #expect(await isValid(try #require(grace["access_token"]?.stringValue)))
        #expect(try await families(AppSession.user(userID: "grace", tenantID: nil).subjectIdentifier) == 1)
    }

    /// Auth.js's `update(data)` for apps: a refresh with `data` hands it to the `update` closure, which changes the
    /// family's subject (and moves it to the new subject's group); bad data is refused and changes nothing.
    @Test func aRefreshWithDataUpdatesTheSubject() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let tokens = try SessionTokens<AppSession>(keys: keys)
        let native = try NativeAppSessions(
            tokens: tokens, store: MemorySessionStore(), configuration: NativeAppConfiguration(clients: [NativeAppClient(id: "ios", redirectURIs: [Self.redirectURI])]),
            update: { subject, data in
                guard case .user(let id, _) = subject, let tenant = data.objectValue?["tenant"]?.stringValue else { return nil }
                return .user(userID: id, tenantID: tenant)
            })
        let handler = AuthHandler(providers: [:], configuration: AuthConfiguration(baseURL: Self.origin), keys: keys, nativeApps: NativeAppAccess(native)) { _ in .json(.null) }
        func send(_ method: HTTPRequest.Method, _ path: String, cookies: String? = nil, form: [(name: String, value: String)] = []) async -> AuthResponse {
            var head = HTTPRequest(method: method, scheme: "https", authority: "app.example", path: path)
            if let cookies { head.headerFields[.cookie] = cookies }
            head.headerFields[.contentType] = "application/x-www-form-urlencoded"
            return await handler.handle(AuthRequest(head: head, body: Array(URLEncodedForm(form).encoded.utf8)))
        }
        let pkce = Self.pkce()
        let started = await send(.get, authorizePath(challenge: pkce.challenge))
        let flow = try #require(Self.cookie(started, named: "__Host-sesame-native"))
        let done = await send(.get, "/auth/native/complete", cookies: flow + "; __Host-sesame-session=" + (try tokens.create(.user(userID: "ada", tenantID: nil))))
        let location = try #require(done.head.headerFields[.location])
        let code = try #require(URLEncodedForm(parsing: String(location.drop { $0 != "?" }.dropFirst()))["code"])
        let first = Self.json(await send(.post, "/auth/token", form: [
            ("grant_type", "authorization_code"), ("code", code), ("code_verifier", pkce.verifier), ("client_id", "ios"), ("redirect_uri", Self.redirectURI),
        ]))
        let refused = await send(.post, "/auth/token", form: [
            ("grant_type", "refresh_token"), ("refresh_token", try #require(first["refresh_token"]?.stringValue)), ("client_id", "ios"), ("data", "{not json"),
        ])
        #expect(Self.json(refused)["error"]?.stringValue == "invalid_request")
        let updated = Self.json(await send(.post, "/auth/token", form: [
            ("grant_type", "refresh_token"), ("refresh_token", try #require(first["refresh_token"]?.stringValue)), ("client_id", "ios"), ("data", #"{"tenant":"acme"}"#),
        ]))
        #expect(try await tokens.verify(try #require(updated["access_token"]?.stringValue, "\(updated)")).subject == .user(userID: "ada", tenantID: "acme"))
        // And it stays so on the next refresh, without data.
        let next = Self.json(await send(.post, "/auth/token", form: [
            ("grant_type", "refresh_token"), ("refresh_token", try #require(updated["refresh_token"]?.stringValue)), ("client_id", "ios"),
        ]))
        #expect(try await tokens.verify(try #require(next["access_token"]?.stringValue)).subject == .user(userID: "ada", tenantID: "acme"))
        #expect(try await native.families(subjectID: AppSession.user(userID: "ada", tenantID: "acme").subjectIdentifier).count == 1)
        #expect(try await native.families(subjectID: AppSession.user(userID: "ada", tenantID: nil).subjectIdentifier).isEmpty)
    }

    /// Without a revocation store, a family's access tokens could not be revoked with it: refused at start.
    @Test func aRevocationStoreIsRequired() throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let stateless = try SessionTokens<AppSession>(keys: keys, revocations: nil)
        #expect(throws: TokenError.self) {
            try NativeAppSessions(tokens: stateless, store: MemorySessionStore(), configuration: NativeAppConfiguration(clients: []))
        }
    }

    /// Without native apps configured, their routes do not exist.
    @Test func withoutNativeAppsTheRoutesAreNotFound() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let plain = AuthHandler(providers: [:], configuration: AuthConfiguration(baseURL: Self.origin), keys: keys) { _ in .json(.null) }
        for (method, path) in [(HTTPRequest.Method.post, "/auth/token"), (.post, "/auth/revoke"), (.get, "/auth/native/authorize")] {
            let response = await plain.handle(AuthRequest(head: HTTPRequest(method: method, scheme: "https", authority: "app.example", path: path)))
            #expect(response.head.status == .notFound, "\(path)")
        }
    }
}
