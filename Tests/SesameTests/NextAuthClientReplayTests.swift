import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Sesame

/// The requests next-auth's client makes (`packages/next-auth/src/react.tsx` and `src/lib/client.ts` in
/// nextauthjs/next-auth), replayed against the handler as a browser's `fetch` sends them, and what the client reads
/// back: `getProviders`, `getCsrfToken`, `signIn` for an email, a credentials and an OAuth provider (with and
/// without `redirect: false`, succeeding and failing), `update`, `getSession` and `signOut`.
@Suite struct NextAuthClientReplayTests {
    final class Links: Sendable {
        let sent = Mutex<[String]>([])
    }

    static let origin = "https://app.example"
    let links = Links()
    let handler: AuthHandler
    let store = MemoryAccountStore()

    init() throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let passwords = PasswordAccounts(
            store: store, hasher: ScryptPasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1), queue: .forTests),
            configuration: PasswordAccounts.Configuration(requiresVerifiedEmail: false))
        let links = links
        let github = CustomProvider(type: "oauth", displayName: "GitHub") { _, _ in
            .redirect(to: "https://github.example/login/oauth/authorize?client_id=x&state=y", status: .found)
        } callback: { _, _ in throw AuthError.accessDenied }
        let sessions = StoredSessions<AppSession, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys))
        let access = SessionAccess(sessions, user: { session in
            guard case .user(let id, let tenant) = session.subject else { return nil }
            var user: JSONObject = ["email": .string(id)]
            if let tenant { user["tenant"] = .string(tenant) }
            return user
        }, update: { session, data in
            guard case .user(let id, _) = session.subject, let tenant = data.objectValue?["tenant"]?.stringValue else { return nil }
            return .user(userID: id, tenantID: tenant)
        })
        handler = AuthHandler(
            providers: [
                "link": LinkProvider(configuration: LinkProvider.Configuration(deliversInBackground: false)) { link, _ in links.sent.withLock { $0.append(link) } },
                "password": PasswordProvider(passwords: passwords, deliversInBackground: false) { _ in },
                "github": github,
            ],
            configuration: AuthConfiguration(baseURL: Self.origin), keys: keys, sessions: access,
            endSessions: { user in try await sessions.endAllSessions(subjectID: AppSession.user(userID: user.email ?? user.id, tenantID: nil).subjectIdentifier) }
        ) { success in
            let email = success.profile?.email ?? success.claims["email"]?.stringValue ?? "?"
            return AuthResponse(try await sessions.signIn(.user(userID: email, tenantID: nil), request: success.request.head, redirect: success.returnTo ?? "/"))
        }
        _ = passwords
    }

    /// A browser running next-auth's client: its cookie jar, and `fetch` as the client calls it.
    struct Browser {
        var cookies: [String: String] = [:]
        let page = "https://app.example/dashboard"

        mutating func fetch(_ handler: AuthHandler, _ method: HTTPRequest.Method, _ path: String, headers: [String: String] = [:], body: String? = nil) async -> (status: Int, json: JSONValue) {
            var head = HTTPRequest(method: method, scheme: "https", authority: "app.example", path: path)
            // What Chromium adds to a same-origin `fetch`.
            head.headerFields[HTTPField.Name("Sec-Fetch-Mode")!] = "cors"
            head.headerFields[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
            if method == .post { head.headerFields[.origin] = NextAuthClientReplayTests.origin }
            if !cookies.isEmpty { head.headerFields[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            for (name, value) in headers { head.headerFields[HTTPField.Name(name)!] = value }
            let response = await handler.handle(AuthRequest(head: head, body: Array((body ?? "").utf8), clientAddress: "198.51.100.30"))
            for cookie in response.head.headerFields[values: .setCookie] {
                let pair = cookie.prefix { $0 != ";" }
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<equals]), value = String(pair[pair.index(after: equals)...])
                if value.isEmpty || cookie.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
            return (response.head.status.code, (try? JSONValue(parsing: response.body)) ?? "not JSON")
        }

        /// `fetchData(path)`: `GET` with `Content-Type: application/json`, or `POST` of `{…body}`.
        mutating func fetchData(_ handler: AuthHandler, _ path: String, body: JSONObject? = nil) async -> (status: Int, json: JSONValue) {
            await fetch(handler, body == nil ? .get : .post, "/auth/" + path, headers: ["Content-Type": "application/json"],
                        body: body.map { String(decoding: JSONValue.object($0).jsonBytes, as: UTF8.self) })
        }

        mutating func getCsrfToken(_ handler: AuthHandler) async -> String {
            await fetchData(handler, "csrf").json["csrfToken"]?.stringValue ?? ""
        }

        /// `signIn(provider, options)`: the form to `/callback/{id}` for credentials, `/signin/{id}` otherwise.
        mutating func signIn(_ handler: AuthHandler, _ provider: String, type: String, options: [(String, String)]) async -> (status: Int, json: JSONValue) {
            let csrfToken = await getCsrfToken(handler)
            let path = "/auth/\(type == "credentials" ? "callback" : "signin")/\(provider)?"
            let form = URLEncodedForm((options + [("csrfToken", csrfToken), ("callbackUrl", page)]).map { (name: $0.0, value: $0.1) })
            return await fetch(handler, .post, path, headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1"], body: form.encoded)
        }

        /// What `signIn(…, {redirect: false})` returns: `{error, status, ok, url}`, from `new URL(data.url)`.
        static func signInResponse(_ answer: (status: Int, json: JSONValue)) -> (error: String?, status: Int, ok: Bool, url: String?)? {
            guard let url = answer.json["url"]?.stringValue, let parsed = URLComponents(string: url), parsed.scheme != nil, parsed.host != nil else { return nil }
            let error = parsed.queryItems?.first { $0.name == "error" }?.value
            return (error, answer.status, (200..<300).contains(answer.status), error == nil ? url : nil)
        }
    }

    @Test func getProvidersAndGetCsrfToken() async throws {
        var browser = Browser()
        let providers = await browser.fetchData(handler, "providers")
        #expect(providers.status == 200)
        for (id, type) in [("link", "email"), ("password", "credentials"), ("github", "oauth")] {
            let provider = try #require(providers.json[id])
            #expect(provider["id"]?.stringValue == id && provider["type"]?.stringValue == type && provider["name"]?.stringValue != nil)
            #expect(provider["signinUrl"]?.stringValue?.hasPrefix("https://app.example/auth/") == true)
            #expect(provider["callbackUrl"]?.stringValue?.hasPrefix("https://app.example/auth/") == true)
        }
        let token = await browser.getCsrfToken(handler)
        #expect(token.count > 20 && !browser.cookies.isEmpty)
    }

    @Test func signInByEmailAnswersTheCheckYourEmailURL() async throws {
        var browser = Browser()
        let answer = await browser.signIn(handler, "link", type: "email", options: [("email", "ada@example.com"), ("redirect", "false")])
        let response = try #require(Browser.signInResponse(answer), "next-auth's client reads new URL(data.url): \(answer.json)")
        #expect(response.ok && response.error == nil && response.url == "https://app.example/auth/verify-request")
        #expect(links.sent.withLock { $0.count } == 1)
        // A malformed address: the error is in the URL, with the status beside it.
        let refused = await browser.signIn(handler, "link", type: "email", options: [("email", "not an address"), ("redirect", "false")])
        let failure = try #require(Browser.signInResponse(refused))
        #expect(!failure.ok && failure.status == 400 && failure.error == "invalid_request" && failure.url == nil)
    }

    @Test func signInWithCredentialsThenUpdateGetSessionAndSignOut() async throws {
        var browser = Browser()
        // Sign-up through the password provider's API, then next-auth's `signIn("password", {email, password})`.
        let token = await browser.getCsrfToken(handler)
        _ = await browser.fetch(handler, .post, "/auth/password/signup", headers: ["Content-Type": "application/json", "Accept": "application/json"],
                                body: "{\"csrfToken\":\"\(token)\",\"email\":\"ada@example.com\",\"password\":\"correct horse battery staple\"}")
        let wrong = await browser.signIn(handler, "password", type: "credentials", options: [("email", "ada@example.com"), ("password", "not the password"), ("redirect", "false")])
        let failure = try #require(Browser.signInResponse(wrong))
        #expect(!failure.ok && failure.status == 401 && failure.error == "invalid_credentials")
        #expect(await browser.fetchData(handler, "session").json == .null, "a null session, as the client expects")

        let right = await browser.signIn(handler, "password", type: "credentials", options: [("email", "ada@example.com"), ("password", "correct horse battery staple"), ("redirect", "false")])
        let success = try #require(Browser.signInResponse(right))
        #expect(success.ok && success.error == nil && success.url == browser.page)
        let session = await browser.fetchData(handler, "session")
        #expect(session.json["user"]?["email"] == "ada@example.com" && session.json["expires"]?.stringValue != nil)

        // `update(data)`: POST /session with the CSRF token and the data.
        let updated = await browser.fetchData(handler, "session", body: ["csrfToken": .string(await browser.getCsrfToken(handler)), "data": ["tenant": "acme"]])
        #expect(updated.status == 200 && updated.json["user"]?["tenant"] == "acme")
        #expect(await browser.fetchData(handler, "session").json["user"]?["tenant"] == "acme")
        // Without the token, no update.
        let forged = await browser.fetchData(handler, "session", body: ["data": ["tenant": "evil"]])
        #expect(forged.status == 403)

        // `signOut({redirect: false})`: the form with the token; the client reads `data.url`.
        let csrfToken = await browser.getCsrfToken(handler)
        let signOut = await browser.fetch(handler, .post, "/auth/signout", headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1"],
                                          body: URLEncodedForm([(name: "csrfToken", value: csrfToken), (name: "callbackUrl", value: "/goodbye")]).encoded)
        #expect(signOut.status == 200 && signOut.json["url"] == "https://app.example/goodbye")
        #expect(await browser.fetchData(handler, "session").json == .null)
    }

    @Test func signInWithOAuthAnswersTheAuthorizationURL() async throws {
        var browser = Browser()
        let answer = await browser.signIn(handler, "github", type: "oauth", options: [])
        #expect(answer.status == 200 && answer.json["url"]?.stringValue?.hasPrefix("https://github.example/login/oauth/authorize?") == true)
        // An unknown provider: next-auth's client checks `getProviders()` first, but a direct post gets a URL too.
        let unknown = await browser.signIn(handler, "gitlab", type: "oauth", options: [])
        #expect(unknown.status == 404 && Browser.signInResponse(unknown)?.error == "unknown_provider")
    }
}
