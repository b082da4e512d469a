import Foundation
import HTTPTypes
import MetricsTestKit
import Synchronization
import Testing

@testable import Sesame

/// ``PasswordProvider`` over the handler's request path: forms with CSRF tokens, answers that do not tell known
/// addresses from unknown ones, and a reset that ends every session.
@Suite struct PasswordProviderTests {
    enum AppSession: SessionSubject { case user(id: String) }

    final class Outbox: Sendable {
        let messages = Mutex<[PasswordProvider.Message]>([])
        func add(_ message: PasswordProvider.Message) { messages.withLock { $0.append(message) } }
        var all: [PasswordProvider.Message] { messages.withLock { $0 } }
        /// The last verification sent to an address: its link and code.
        func verification(to email: String) -> (link: String, code: String)? {
            for case .verifyEmail(let to, let link, let code) in all.reversed() where to == email { return (link, code) }
            return nil
        }
        func reset(to email: String) -> String? {
            for case .resetPassword(let to, let link) in all.reversed() where to == email { return link }
            return nil
        }
    }

    let outbox = Outbox()
    let store = MemoryAccountStore()
    let handler: AuthHandler
    let passwords: PasswordAccounts
    /// What the handler and its sessions report (swift-metrics' test kit, this suite's alone: no global bootstrap).
    let metrics = TestMetrics()
    static let password = "correct horse battery staple"
    static let origin = "https://app.example"

    init() throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        passwords = PasswordAccounts(
            store: store, hasher: ScryptPasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1), queue: .forTests),
            // The limiter's clock stands still: a test on a slow machine never sees a token refilled.
            configuration: PasswordAccounts.Configuration(perAddress: MemoryRateLimiter(capacity: 5, refillInterval: 60, now: { 1_800_000_000 })))
        let outbox = outbox
        let provider = PasswordProvider(passwords: passwords, deliversInBackground: false) { outbox.add($0) }
        let reporting = SesameMetrics(factory: metrics)
        let sessions = StoredSessions<AppSession, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys), configuration: StoredSessionConfiguration(metrics: reporting))
        handler = AuthHandler(
            providers: ["password": provider], configuration: AuthConfiguration(baseURL: Self.origin, metrics: reporting), keys: keys,
            accounts: Accounts(store: store, keys: keys), sessions: sessions,
            subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } })
    }

    /// A browser (or API client) with a cookie jar.
    struct Client {
        var cookies: [String: String] = [:]
        var browser = true

        var cookieHeader: String? { cookies.isEmpty ? nil : cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

        mutating func send(_ handler: AuthHandler, _ method: HTTPRequest.Method, _ path: String, form: [(String, String)]? = nil, json: JSONObject? = nil,
                           origin: String? = PasswordProviderTests.origin, fields: [String: String] = [:]) async -> AuthResponse {
            var head = HTTPRequest(method: method, scheme: "https", authority: "app.example", path: path)
            if let cookieHeader { head.headerFields[.cookie] = cookieHeader }
            if browser { head.headerFields[HTTPField.Name("Sec-Fetch-Mode")!] = "navigate" } else { head.headerFields[.accept] = "application/json" }
            if let origin { head.headerFields[.origin] = origin }
            for (name, value) in fields { head.headerFields[HTTPField.Name(name)!] = value }
            var body: [UInt8] = []
            if let form {
                head.headerFields[.contentType] = "application/x-www-form-urlencoded"
                body = Array(URLEncodedForm(form.map { (name: $0.0, value: $0.1) }).encoded.utf8)
            } else if let json {
                head.headerFields[.contentType] = "application/json"
                body = JSONValue.object(json).jsonBytes
            }
            let response = await handler.handle(AuthRequest(head: head, body: body, clientAddress: "198.51.100.20"))
            for cookie in response.head.headerFields[values: .setCookie] {
                let pair = cookie.prefix { $0 != ";" }
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<equals]), value = String(pair[pair.index(after: equals)...])
                if value.isEmpty || cookie.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
            return response
        }

        /// A CSRF token (and its cookie in the jar).
        mutating func csrf(_ handler: AuthHandler) async throws -> String {
            let response = await send(handler, .get, "/auth/csrf", origin: nil, fields: ["Accept": "application/json", "Sec-Fetch-Mode": "cors"])
            return try #require(try JSONValue(parsing: response.body)["csrfToken"]?.stringValue)
        }

        mutating func session(_ handler: AuthHandler) async throws -> JSONValue {
            try JSONValue(parsing: await send(handler, .get, "/auth/session", origin: nil, fields: ["Sec-Fetch-Mode": "cors", "Accept": "application/json"]).body)
        }
    }

    static func json(_ response: AuthResponse) -> JSONValue { (try? JSONValue(parsing: response.body)) ?? "not JSON" }
    static func location(_ response: AuthResponse) -> String? { response.head.headerFields[.location] }
    static func path(of url: String) -> String { url.hasPrefix(origin) ? String(url.dropFirst(origin.count)) : url }

    /// Sign-up, the link, sign-in, a session: the browser's whole path.
    @Test func signUpVerifyAndSignInInABrowser() async throws {
        var browser = Client()
        let token = try await browser.csrf(handler)
        let page = await browser.send(handler, .get, "/auth/signin", origin: nil)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("action=\"https://app.example/auth/callback/password\"") && html.contains("type=\"password\""))
        #expect(html.contains("/auth/password/signup") && html.contains("/auth/password/forgot"))
        #expect(await browser.send(handler, .get, "/auth/password/signup", origin: nil).head.status == .ok)

        let signUp = await browser.send(handler, .post, "/auth/password/signup", form: [("csrfToken", token), ("email", "Ada@Example.com"), ("password", Self.password), ("name", "Ada")])
        #expect(signUp.head.status == .seeOther && Self.location(signUp) == "https://app.example/auth/password/verify?email=ada%40example.com")
        let (link, code) = try #require(outbox.verification(to: "ada@example.com"))
        #expect(code.count == 8 && link.hasPrefix("https://app.example/auth/password/verify?email=ada%40example.com&token="))

        // Unverified, the right password is refused back to the sign-in page.
        let early = await browser.send(handler, .post, "/auth/callback/password", form: [("csrfToken", token), ("email", "ada@example.com"), ("password", Self.password)])
        #expect(Self.location(early) == "https://app.example/auth/signin?error=email_not_verified")
        let verified = await browser.send(handler, .get, Self.path(of: link), origin: nil)
        #expect(Self.location(verified) == "https://app.example/auth/signin?verified=1")
        #expect(String(decoding: await browser.send(handler, .get, "/auth/signin?verified=1", origin: nil).body, as: UTF8.self).contains("Your email address is verified"))

        let wrong = await browser.send(handler, .post, "/auth/callback/password", form: [("csrfToken", token), ("email", "ada@example.com"), ("password", "not it at all")])
        #expect(Self.location(wrong) == "https://app.example/auth/signin?error=invalid_credentials")
        #expect(browser.cookies["__Host-sesame-sid"] == nil)
        let signedIn = await browser.send(handler, .post, "/auth/callback/password", form: [("csrfToken", token), ("email", "ada@example.com"), ("password", Self.password), ("callbackUrl", "/dashboard")])
        #expect(signedIn.head.status.kind == .redirection && Self.location(signedIn) == "/dashboard")
        #expect(browser.cookies["__Host-sesame-sid"] != nil)
        let session = try await browser.session(handler)
        #expect(session["user"]?["email"] == "ada@example.com" && session["user"]?["name"] == "Ada")

        // The metrics: two failed sign-ins (unverified, then the wrong password) and one success, each refusal by its
        // code, the session store's operations timed under its type name, and no label naming the person.
        #expect(metrics.counterTotal(label: SesameMetrics.Name.signIns, dimensions: [("provider", "password"), ("outcome", "failure")]) == 2)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.signIns, dimensions: [("provider", "password"), ("outcome", "success")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.refusals, dimensions: [("code", "email_not_verified")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.refusals, dimensions: [("code", "invalid_credentials")]) == 1)
        #expect(try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "MemorySessionStore"), ("operation", "create")]).values.count == 1)
        #expect(try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "MemorySessionStore"), ("operation", "get")]).values.count >= 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.storeFailures) == 0)
        MetricsTests.expectNoPersonalLabels(metrics, secrets: ["ada@example.com", "Ada@Example.com", "198.51.100.20", Self.password, token] + browser.cookies.values)
    }

    /// An API client: JSON in, JSON out, the code form, and Auth.js's `signin/{provider}` with `X-Auth-Return-Redirect`.
    @Test func apiClientsGetJSON() async throws {
        var client = Client(browser: false)
        let token = try await client.csrf(handler)
        let signUp = await client.send(handler, .post, "/auth/password/signup", json: ["csrfToken": .string(token), "email": "bob@example.com", "password": .string(Self.password)])
        #expect(signUp.head.status == .ok && Self.json(signUp) == ["ok": true])
        let code = try #require(outbox.verification(to: "bob@example.com")).code
        let badCode = await client.send(handler, .post, "/auth/password/verify", json: ["csrfToken": .string(token), "email": "bob@example.com", "code": "00000000"])
        #expect(badCode.head.status == .badRequest && Self.json(badCode)["error"] == "invalid_verification")
        let verify = await client.send(handler, .post, "/auth/password/verify", json: ["csrfToken": .string(token), "email": "bob@example.com", "code": .string(code)])
        #expect(verify.head.status == .ok)

        let wrong = await client.send(handler, .post, "/auth/callback/password", json: ["csrfToken": .string(token), "email": "bob@example.com", "password": "nope nope nope"])
        #expect(wrong.head.status == .unauthorized && Self.json(wrong)["error"] == "invalid_credentials")
        let signIn = await client.send(
            handler, .post, "/auth/signin/password", form: [("csrfToken", token), ("email", "bob@example.com"), ("password", Self.password), ("callbackUrl", "/home")],
            fields: ["X-Auth-Return-Redirect": "1"])
        #expect(signIn.head.status == .ok && Self.json(signIn)["url"] == "https://app.example/home")
        #expect(try await client.session(handler)["user"]?["email"] == "bob@example.com")
        // Counted: the wrong password (a callback) and the success through Auth.js's `signin/{provider}`; the wrong
        // verification code is a refusal, not a sign-in.
        #expect(metrics.counterTotal(label: SesameMetrics.Name.signIns, dimensions: [("provider", "password"), ("outcome", "failure")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.signIns, dimensions: [("provider", "password"), ("outcome", "success")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.refusals, dimensions: [("code", "invalid_verification")]) == 1)
    }

    /// Every POST needs the CSRF token and this site's origin; a password in the query is never read.
    @Test func formsNeedTheCSRFTokenAndThisOrigin() async throws {
        var client = Client(browser: false)
        let token = try await client.csrf(handler)
        let body: JSONObject = ["email": "eve@example.com", "password": .string(Self.password)]
        var withToken = body
        withToken["csrfToken"] = .string(token)
        for path in ["/auth/password/signup", "/auth/callback/password", "/auth/signin/password", "/auth/password/forgot", "/auth/password/reset", "/auth/password/verify"] {
            let missing = await client.send(handler, .post, path, json: body)
            #expect(missing.head.status == .forbidden && Self.json(missing)["error"] == "invalid_csrf_token", "\(path)")
            let wrong = await client.send(handler, .post, path, json: ["csrfToken": .string(token + "x"), "email": "eve@example.com"])
            #expect(wrong.head.status == .forbidden, "\(path)")
            let crossSite = await client.send(handler, .post, path, json: withToken, origin: "https://evil.example")
            #expect(crossSite.head.status == .forbidden && Self.json(crossSite)["error"] == "forbidden_origin", "\(path)")
        }
        #expect(try await store.user(email: "eve@example.com") == nil && outbox.all.isEmpty)
        // The password in the query: the form has none, so nothing is created.
        let query = await client.send(handler, .post, "/auth/password/signup?password=correct+horse+battery+staple", json: ["csrfToken": .string(token), "email": "eve@example.com"])
        #expect(query.head.status == .badRequest && Self.json(query)["error"] == "weak_password")
        #expect(try await store.user(email: "eve@example.com") == nil)
        // Unknown steps and wrong methods.
        #expect(await client.send(handler, .get, "/auth/password/nothing", origin: nil).head.status == .notFound)
        #expect(await client.send(handler, .get, "/auth/password/callback", origin: nil).head.status == .methodNotAllowed)
        #expect(await client.send(handler, .put, "/auth/password/signup", json: withToken).head.status == .methodNotAllowed)
    }

    /// Sign-up and forgot-password answer known and unknown addresses with the same status and body.
    @Test func knownAndUnknownAddressesAnswerAlike() async throws {
        var client = Client(browser: false)
        let token = try await client.csrf(handler)
        _ = await client.send(handler, .post, "/auth/password/signup", json: ["csrfToken": .string(token), "email": "ada@example.com", "password": .string(Self.password)])
        for path in ["/auth/password/signup", "/auth/password/forgot", "/auth/password/resend"] {
            let known = await client.send(handler, .post, path, json: ["csrfToken": .string(token), "email": "ada@example.com", "password": .string(Self.password)])
            let unknown = await client.send(handler, .post, path, json: ["csrfToken": .string(token), "email": .string("new\(UUID().uuidString.prefix(6))@example.com"), "password": .string(Self.password)])
            #expect(known.head.status == unknown.head.status && known.body == unknown.body, "\(path)")
            #expect(known.head.headerFields[values: .setCookie] == unknown.head.headerFields[values: .setCookie], "\(path)")
        }
        // The owner of the known address is told, not signed up again.
        #expect(outbox.all.contains { if case .addressInUse(let to, _, _) = $0 { to == "ada@example.com" } else { false } })
        #expect(try await store.accounts(userID: try #require(try await store.user(email: "ada@example.com")).id).count == 1)
        // Sign-in: no such address and a wrong password, one answer.
        let none = await client.send(handler, .post, "/auth/callback/password", json: ["csrfToken": .string(token), "email": "nobody@example.com", "password": "whatever it is"])
        let wrong = await client.send(handler, .post, "/auth/callback/password", json: ["csrfToken": .string(token), "email": "ada@example.com", "password": "whatever it is"])
        #expect(none.head.status == wrong.head.status && none.body == wrong.body)
    }

    /// A reset by link sets the new password and ends every session; the old password stops working.
    @Test func aResetEndsEverySession() async throws {
        var phone = Client()
        let token = try await phone.csrf(handler)
        _ = await phone.send(handler, .post, "/auth/password/signup", form: [("csrfToken", token), ("email", "ada@example.com"), ("password", Self.password)])
        _ = await phone.send(handler, .get, Self.path(of: try #require(outbox.verification(to: "ada@example.com")).link), origin: nil)
        _ = await phone.send(handler, .post, "/auth/callback/password", form: [("csrfToken", token), ("email", "ada@example.com"), ("password", Self.password)])
        #expect(try await phone.session(handler)["user"]?["email"] == "ada@example.com")

        var laptop = Client()
        let laptopToken = try await laptop.csrf(handler)
        let forgot = await laptop.send(handler, .post, "/auth/password/forgot", form: [("csrfToken", laptopToken), ("email", "ada@example.com")])
        #expect(Self.location(forgot) == "https://app.example/auth/password/forgot?sent=1")
        let link = try #require(outbox.reset(to: "ada@example.com"))
        let page = await laptop.send(handler, .get, Self.path(of: link), origin: nil)
        #expect(page.head.status == .ok && page.head.headerFields[.referrerPolicy] == "strict-origin")
        let form = URLEncodedForm(parsing: link.split(separator: "?")[1])
        let weak = await laptop.send(handler, .post, "/auth/password/reset", form: [("csrfToken", laptopToken), ("user", form["user"]!), ("token", form["token"]!), ("password", "password1")])
        #expect(Self.location(weak)?.contains("/auth/password/reset?user=") == true && Self.location(weak)?.hasSuffix("&error=weak_password") == true)
        let done = await laptop.send(handler, .post, "/auth/password/reset", form: [("csrfToken", laptopToken), ("user", form["user"]!), ("token", form["token"]!), ("password", "a new long passphrase")])
        #expect(Self.location(done) == "https://app.example/auth/signin?reset=1")
        #expect(try await phone.session(handler) == .null, "the phone's session ended")
        let again = await laptop.send(handler, .post, "/auth/password/reset", form: [("csrfToken", laptopToken), ("user", form["user"]!), ("token", form["token"]!), ("password", "another passphrase!")])
        #expect(Self.location(again)?.hasSuffix("error=invalid_verification") == true, "single-use")
        let old = await laptop.send(handler, .post, "/auth/callback/password", form: [("csrfToken", laptopToken), ("email", "ada@example.com"), ("password", Self.password)])
        #expect(Self.location(old)?.hasSuffix("error=invalid_credentials") == true)
        _ = await laptop.send(handler, .post, "/auth/callback/password", form: [("csrfToken", laptopToken), ("email", "ada@example.com"), ("password", "a new long passphrase")])
        #expect(try await laptop.session(handler)["user"]?["email"] == "ada@example.com")
        // A malformed link shows no form.
        #expect(await laptop.send(handler, .get, "/auth/password/reset?user=x&token=short", origin: nil).head.headerFields[.location]?.contains("error=invalid_verification") == true)
    }

    /// Too many attempts on one address: 429 with Retry-After, for browsers too (not a redirect that hides it).
    @Test func rateLimitsAnswer429() async throws {
        var client = Client()
        let token = try await client.csrf(handler)
        var statuses: [HTTPResponse.Status] = []
        for _ in 0..<6 {
            let response = await client.send(handler, .post, "/auth/callback/password", form: [("csrfToken", token), ("email", "ada@example.com"), ("password", "guess guess guess")])
            statuses.append(response.head.status)
            if response.head.status == .tooManyRequests {
                // A minute: the limiter's clock stood still while the five hashes ran.
                #expect(response.head.headerFields[.retryAfter] == "60")
            }
        }
        #expect(statuses.prefix(5).allSatisfy { $0 == .seeOther } && statuses.last == .tooManyRequests)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.rateLimited, dimensions: [("route", "callback")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.refusals, dimensions: [("code", "rate_limited")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.signIns, dimensions: [("provider", "password"), ("outcome", "failure")]) == 6)
    }
}

/// ``CredentialsProvider``: the app's own check, behind the same CSRF, origin and rate-limit rules.
@Suite struct CredentialsProviderTests {
    static func handler(perClient: Int = 100) throws -> AuthHandler {
        let provider = CredentialsProvider(displayName: "Company account", perClient: MemoryRateLimiter(capacity: perClient, refillInterval: 60)) { credentials, _ in
            // The app's directory: one user. Sesame's own fields never reach it.
            #expect(credentials["csrfToken"] == nil && credentials["callbackUrl"] == nil)
            guard credentials["username"] == "ada", credentials["password"] == "lovelace-1815" else { return nil }
            return ProviderIdentity(claims: ["dn": "uid=ada"], profile: Profile(id: "uid=ada", email: "ada@example.com", emailVerified: true, name: "Ada"))
        }
        return AuthHandler(providers: ["ldap": provider], configuration: AuthConfiguration(baseURL: PasswordProviderTests.origin), keys: try KeySet(activeKey: JWK.generate(.es256))) { success in
            .json(["signedIn": .string(success.profile?.id ?? ""), "returnTo": success.returnTo.map(JSONValue.string) ?? .null])
        }
    }

    @Test func theAppsCheckDecides() async throws {
        let handler = try Self.handler()
        var client = PasswordProviderTests.Client(browser: false)
        let token = try await client.csrf(handler)
        let page = String(decoding: await client.send(handler, .get, "/auth/signin", origin: nil, fields: ["Sec-Fetch-Mode": "navigate"]).body, as: UTF8.self)
        #expect(page.contains("name=\"username\"") && page.contains("type=\"password\"") && page.contains("/auth/callback/ldap") && !page.contains("Forgot"))
        let ok = await client.send(handler, .post, "/auth/callback/ldap", form: [("csrfToken", token), ("username", "ada"), ("password", "lovelace-1815"), ("callbackUrl", "/home")])
        #expect(PasswordProviderTests.json(ok) == ["signedIn": "uid=ada", "returnTo": "/home"])
        let wrong = await client.send(handler, .post, "/auth/callback/ldap", form: [("csrfToken", token), ("username", "ada"), ("password", "guess")])
        #expect(wrong.head.status == .unauthorized && PasswordProviderTests.json(wrong)["error"] == "invalid_credentials")
        var browser = PasswordProviderTests.Client()
        let browserToken = try await browser.csrf(handler)
        let refused = await browser.send(handler, .post, "/auth/signin/ldap", form: [("csrfToken", browserToken), ("username", "ada"), ("password", "guess")])
        #expect(refused.head.headerFields[.location] == "https://app.example/auth/signin?error=invalid_credentials")
        #expect(await client.send(handler, .post, "/auth/callback/ldap", form: [("username", "ada"), ("password", "lovelace-1815")]).head.status == .forbidden)
        #expect(await client.send(handler, .post, "/auth/callback/ldap", form: [("csrfToken", token), ("username", "ada"), ("password", "lovelace-1815")], origin: "https://evil.example").head.status == .forbidden)
        #expect(await client.send(handler, .get, "/auth/callback/ldap", origin: nil).head.status == .methodNotAllowed)
    }

    @Test func attemptsAreLimitedPerClient() async throws {
        let handler = try Self.handler(perClient: 3)
        var client = PasswordProviderTests.Client(browser: false)
        let token = try await client.csrf(handler)
        var statuses: [Int] = []
        for _ in 0..<4 {
            statuses.append(await client.send(handler, .post, "/auth/callback/ldap", form: [("csrfToken", token), ("username", "ada"), ("password", "guess")]).head.status.code)
        }
        #expect(statuses == [401, 401, 401, 429])
    }
}
