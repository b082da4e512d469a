import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Sesame
import SesameHummingbird
import Synchronization
import Testing

/// The Auth.js REST actions and their rejections: CSRF, origins, methods, redirects.
@Suite(.timeLimit(.minutes(3))) struct AuthJSActionTests {
    static let origin = TestApp.baseURL

    /// Events the app's callback received.
    final class Events: Sendable {
        let all = Mutex<[AuthEvent]>([])
    }

    struct Setup {
        let app: TestApp
        let events = Events()
        let handler: AuthHandler

        init(signIn: @escaping @Sendable (AuthSuccess) async throws -> AuthCallbacks.SignInDecision = { _ in .allow }) throws {
            app = try TestApp()
            let outbox = app.outbox, sessions = app.sessions, events = self.events
            let link = LinkProvider(configuration: app.linkConfiguration, now: app.clock.function) { link, claims in outbox.deliver(link, claims) }
            let github = OAuth2Provider.github(clientID: "id", clientSecret: "secret")
            handler = AuthHandler(
                providers: ["link": link, "github": github], configuration: AuthConfiguration(baseURL: TestApp.baseURL), keys: app.keys,
                sessions: SessionAccess(sessions, user: { session in
                    guard case .user(let email) = session.subject else { return nil }
                    return ["email": .string(email), "name": .string(String(email.prefix { $0 != "@" }))]
                }, update: { session, data in
                    // Auth.js's `update(data)`: here, a new display address, validated like any input.
                    guard let email = data["email"]?.stringValue, email.hasSuffix("@example.com") else { throw AuthError.invalidRequest }
                    return .user(email: email)
                }),
                callbacks: AuthCallbacks(signIn: signIn, event: { event in events.all.withLock { $0.append(event) } })
            ) { success in
                guard let email = success.claims["email"]?.stringValue else { throw AuthError.accessDenied }
                return AuthResponse(try sessions.cookie(.user(email: email), redirect: TestApp.baseURL + (success.returnTo ?? "/")))
            }
        }

        var application: some ApplicationProtocol {
            let router = Router(context: BasicSesameRequestContext<TestSession>.self)
            router.addAuthHandler(handler)
            return Application(router: router)
        }
    }

    /// A CSRF token and the cookie that carries it.
    static func csrf(_ client: some TestClientProtocol) async throws -> (token: String, cookie: String) {
        let response = try await client.execute(uri: "/auth/csrf", method: .get)
        let token = try #require(response.json?["csrfToken"]?.stringValue)
        let cookie = try #require(response.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
        return (token, cookie)
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, form: [(String, String)], cookie: String?, origin: String? = origin, extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        if let origin { headers[.origin] = origin }
        for field in extra { headers[field.name] = field.value }
        let body = URLEncodedForm(form.map { (name: $0.0, value: $0.1) }).encoded
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func providersAndCSRFHaveAuthJSShapes() async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            let providers = try await client.execute(uri: "/auth/providers", method: .get)
            #expect(providers.json?["link"]?["type"] == "email")
            #expect(providers.json?["github"]?["type"] == "oauth")
            #expect(providers.json?["github"]?["signinUrl"] == "http://127.0.0.1:8080/auth/signin/github")
            #expect(providers.json?["github"]?["callbackUrl"] == "http://127.0.0.1:8080/auth/github/callback")
            #expect(providers.json?["github"]?["name"] == "GitHub")
            let (token, cookie) = try await Self.csrf(client)
            #expect(cookie.hasPrefix("sesame-csrf="))  // plain-http loopback development: no __Host- prefix
            // The same browser keeps its token.
            let again = try await client.execute(uri: "/auth/csrf", method: .get, headers: [.cookie: cookie])
            #expect(again.json?["csrfToken"]?.stringValue == token)
            #expect(again.headers[.setCookie] == nil)
        }
    }

    @Test func signInWithEmailNeedsCSRFAndOrigin() async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            let (token, cookie) = try await Self.csrf(client)
            let form = [("csrfToken", token), ("email", "ada@example.com"), ("callbackUrl", "/dashboard")]
            // Every way of getting it wrong: 403, and no link sent.
            let refusals: [(form: [(String, String)], cookie: String?, origin: String?, extra: HTTPFields, code: String)] = [
                ([("email", "ada@example.com")], cookie, Self.origin, [:], "invalid_csrf_token"),
                ([("csrfToken", token + "x"), ("email", "ada@example.com")], cookie, Self.origin, [:], "invalid_csrf_token"),
                (form, nil, Self.origin, [:], "invalid_csrf_token"),
                (form, cookie, "https://evil.example", [:], "forbidden_origin"),
                (form, cookie, "null", [:], "forbidden_origin"),
                (form, cookie, nil, [:], "forbidden_origin"),
                (form, cookie, nil, [.referer: "https://evil.example/page"], "forbidden_origin"),
                (form, cookie, Self.origin, [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"], "forbidden_origin"),
            ]
            for refusal in refusals {
                let response = try await Self.post(client, "/auth/signin/link", form: refusal.form, cookie: refusal.cookie, origin: refusal.origin, extra: refusal.extra)
                #expect(response.status == .forbidden)
                #expect(response.json?["error"]?.stringValue == refusal.code)
            }
            #expect(setup.app.outbox.all.isEmpty)
            // GET on a state-changing action is not allowed.
            #expect(try await client.execute(uri: "/auth/signin/link?email=ada@example.com", method: .get).status == .methodNotAllowed)
            #expect(try await client.execute(uri: "/auth/csrf", method: .post, headers: [.origin: Self.origin]).status == .methodNotAllowed)

            // A same-origin referer without Origin is fine; a browser lands on verify-request.
            let sent = try await Self.post(client, "/auth/signin/link", form: form, cookie: cookie, origin: nil, extra: [.referer: Self.origin + "/auth/signin", .accept: "text/html"])
            #expect(sent.status == .seeOther)
            #expect(sent.headers[.location] == "http://127.0.0.1:8080/auth/verify-request")
            let link = try #require(setup.app.outbox.last)
            #expect(link.claims["csrfToken"] == nil)
            #expect(link.claims["returnTo"] == "/dashboard")

            // The link, in the browser that asked for it (the binding cookie came with the redirect), signs in
            // and goes where callbackUrl said.
            let binding = try #require(sent.linkBinding)
            let callback = try await client.execute(uri: pathAndQuery(link.link), method: .get, headers: [.cookie: binding])
            #expect(callback.headers[.location] == "http://127.0.0.1:8080/dashboard")
            #expect(setup.events.all.withLock { $0.map(\.name) } == ["signIn"])
        }
    }

    @Test(arguments: ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
    func callbackURLsOutsideThePolicyAreDropped(_ target: String) async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            let (token, cookie) = try await Self.csrf(client)
            let sent = try await Self.post(client, "/auth/signin/link", form: [("csrfToken", token), ("email", "ada@example.com"), ("callbackUrl", target)], cookie: cookie)
            #expect(setup.app.outbox.last?.claims["returnTo"] == nil)
            let callback = try await client.execute(uri: pathAndQuery(setup.app.outbox.last!.link), method: .get, headers: [.cookie: try #require(sent.linkBinding)])
            #expect(callback.headers[.location] == "http://127.0.0.1:8080/")
        }
    }

    @Test func oauthSignInRedirectsOrReturnsTheURL() async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            let (token, cookie) = try await Self.csrf(client)
            let form = [("csrfToken", token), ("callbackUrl", "/settings")]
            let redirect = try await Self.post(client, "/auth/signin/github", form: form, cookie: cookie)
            #expect(redirect.status == .found)
            #expect(redirect.headers[.location]?.hasPrefix("https://github.com/login/oauth/authorize?") == true)
            #expect(redirect.headers[values: .setCookie].contains { $0.hasPrefix("sesame-flow-github=") })
            // X-Auth-Return-Redirect: the same answer as JSON, cookies kept.
            let json = try await Self.post(client, "/auth/signin/github", form: form, cookie: cookie, extra: [HTTPField.Name("X-Auth-Return-Redirect")!: "1"])
            #expect(json.status == .ok)
            #expect(json.json?["url"]?.stringValue?.hasPrefix("https://github.com/login/oauth/authorize?") == true)
            #expect(json.headers[values: .setCookie].contains { $0.hasPrefix("sesame-flow-github=") })
            #expect(try await Self.post(client, "/auth/signin/nobody", form: form, cookie: cookie).status == .notFound)
        }
    }

    @Test func sessionAndSignOut() async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            #expect(try await client.execute(uri: "/auth/session", method: .get).json == .null)
            let token = try setup.app.sessions.create(.user(email: "ada@example.com"))
            let sessionCookie = "sesame-session=\(token)"
            let session = try await client.execute(uri: "/auth/session", method: .get, headers: [.cookie: sessionCookie])
            #expect(session.json?["user"]?["email"] == "ada@example.com")
            #expect(session.json?["user"]?["name"] == "ada")
            #expect(session.json?["expires"]?.stringValue?.hasSuffix("Z") == true)

            let (csrfToken, csrfCookie) = try await Self.csrf(client)
            let cookies = sessionCookie + "; " + csrfCookie
            // POST session is CSRF-checked too.
            #expect(try await Self.post(client, "/auth/session", form: [], cookie: cookies).status == .forbidden)
            #expect(try await Self.post(client, "/auth/session", form: [("csrfToken", csrfToken)], cookie: cookies).json?["user"]?["email"] == "ada@example.com")
            // Auth.js's update(data): a new session (new cookie) with the new subject; bad data is refused.
            var update: HTTPFields = [.contentType: "application/json", .cookie: cookies, .origin: Self.origin]
            let updated = try await client.execute(uri: "/auth/session", method: .post, headers: update, body: ByteBuffer(string: #"{"csrfToken":"\#(csrfToken)","data":{"email":"ada.l@example.com"}}"#))
            #expect(updated.json?["user"]?["email"] == "ada.l@example.com")
            let renewed = try #require(updated.sessionCookie)
            #expect(renewed != sessionCookie)
            // The update revoked the token it replaced: one live token per session, never two.
            #expect(try await client.execute(uri: "/auth/session", method: .get, headers: [.cookie: sessionCookie]).json == .null)
            update[.cookie] = renewed + "; " + csrfCookie
            let refused = try await client.execute(uri: "/auth/session", method: .post, headers: update, body: ByteBuffer(string: #"{"csrfToken":"\#(csrfToken)","data":{"email":"eve@evil.example"}}"#))
            #expect(refused.status == .badRequest)
            #expect(try await client.execute(uri: "/auth/session", method: .get, headers: [.cookie: renewed]).json?["user"]?["email"] == "ada.l@example.com")
            // Sign-out without the token is refused; with it, the session ends (its token revoked).
            let renewedCookies = renewed + "; " + csrfCookie
            #expect(try await Self.post(client, "/auth/signout", form: [], cookie: renewedCookies).status == .forbidden)
            let out = try await Self.post(client, "/auth/signout", form: [("csrfToken", csrfToken), ("callbackUrl", "/bye")], cookie: renewedCookies)
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/bye")
            #expect(out.headers[values: .setCookie].contains { $0.hasPrefix("sesame-session=;") })
            #expect(try await client.execute(uri: "/auth/session", method: .get, headers: [.cookie: renewed]).json == .null)
            #expect(setup.events.all.withLock { $0.map(\.name) }.contains("signOut"))
        }
    }

    /// In cookie mode no JSON answer carries the session token: not the session, not an update (whose new token
    /// is only in its `Set-Cookie`), not a sign-in or sign-out answered as `{url}`.
    @Test func noJSONBodyCarriesTheSessionToken() async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            let (csrfToken, csrfCookie) = try await Self.csrf(client)
            let returnRedirect: HTTPFields = [HTTPField.Name("X-Auth-Return-Redirect")!: "1"]
            let sent = try await Self.post(client, "/auth/signin/link", form: [("csrfToken", csrfToken), ("email", "ada@example.com")], cookie: csrfCookie, extra: returnRedirect)
            let link = try #require(setup.app.outbox.last?.link)
            var callbackHeaders = returnRedirect
            callbackHeaders[.cookie] = try #require(sent.linkBinding)
            let signedIn = try await client.execute(uri: pathAndQuery(link), method: .get, headers: callbackHeaders)
            let session = try #require(signedIn.sessionCookie)
            let token = String(session.drop { $0 != "=" }.dropFirst())
            #expect(signedIn.json?["url"] == "http://127.0.0.1:8080/")
            var bodies = [sent.text, signedIn.text]
            bodies.append(try await client.execute(uri: "/auth/session", method: .get, headers: [.cookie: session]).text)
            bodies.append(try await client.execute(uri: "/auth/providers", method: .get, headers: [.cookie: session]).text)
            bodies.append(try await client.execute(uri: "/auth/csrf", method: .get, headers: [.cookie: session + "; " + csrfCookie]).text)
            let update: HTTPFields = [.contentType: "application/json", .cookie: session + "; " + csrfCookie, .origin: Self.origin]
            let updated = try await client.execute(uri: "/auth/session", method: .post, headers: update, body: ByteBuffer(string: #"{"csrfToken":"\#(csrfToken)","data":{"email":"ada.l@example.com"}}"#))
            let renewed = try #require(updated.sessionCookie)
            bodies.append(updated.text)
            let out = try await Self.post(client, "/auth/signout", form: [("csrfToken", csrfToken)], cookie: renewed + "; " + csrfCookie, extra: returnRedirect)
            #expect(out.json?["url"] != nil)
            bodies.append(out.text)
            for secret in [token, String(renewed.drop { $0 != "=" }.dropFirst())] {
                for body in bodies {
                    #expect(!body.contains(secret))
                    #expect(!body.contains(String(secret.split(separator: ".").last!)))
                }
            }
        }
    }

    @Test func signInCallbackCanDenyOrRedirect() async throws {
        let deny = try Setup { success in success.claims["email"] == "ada@example.com" ? .deny : .redirect("https://evil.example/") }
        try await deny.application.test(.router) { client in
            for email in ["ada@example.com", "bob@example.com"] {
                let (token, cookie) = try await Self.csrf(client)
                let sent = try await Self.post(client, "/auth/signin/link", form: [("csrfToken", token), ("email", email)], cookie: cookie)
                let callback = try await client.execute(uri: pathAndQuery(deny.app.outbox.last!.link), method: .get, headers: [.cookie: try #require(sent.linkBinding)])
                // Denied, and a redirect outside the policy is refused rather than followed.
                #expect(callback.json?["error"] == "access_denied")
                #expect(callback.sessionCookie == nil)
            }
        }
        let elsewhere = try Setup { _ in .redirect("/waitlist") }
        try await elsewhere.application.test(.router) { client in
            let (token, cookie) = try await Self.csrf(client)
            let sent = try await Self.post(client, "/auth/signin/link", form: [("csrfToken", token), ("email", "ada@example.com")], cookie: cookie)
            let callback = try await client.execute(uri: pathAndQuery(elsewhere.app.outbox.last!.link), method: .get, headers: [.cookie: try #require(sent.linkBinding)])
            #expect(callback.headers[.location] == "/waitlist")
            #expect(callback.sessionCookie == nil)
        }
    }

    @Test func builtInPagesCarryCSRFTokensAndAStrictPolicy() async throws {
        let setup = try Setup()
        try await setup.application.test(.router) { client in
            let signIn = try await client.execute(uri: "/auth/signin?callbackUrl=%2Fdashboard", method: .get, headers: .browser)
            #expect(signIn.status == .ok)
            let csp = try #require(signIn.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'none'") && csp.contains("form-action 'self' https://github.com"))
            // `no-referrer` would make browsers post the forms with `Origin: null`, which the origin check refuses.
            #expect(signIn.headers[.referrerPolicy] == "same-origin")
            #expect(signIn.text.contains("action=\"http://127.0.0.1:8080/auth/signin/github\""))
            #expect(signIn.text.contains("<label for=\"email-link\">Email address</label>"))
            #expect(signIn.text.contains("Sign in with GitHub"))
            #expect(signIn.text.contains("name=\"callbackUrl\" value=\"/dashboard\""))
            let token = try #require(signIn.text.firstMatch(of: /name="csrfToken" value="([^"]+)"/).map { String($0.1) })
            let cookie = try #require(signIn.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
            #expect(try await Self.post(client, "/auth/signin/link", form: [("csrfToken", token), ("email", "ada@example.com")], cookie: cookie).status == .ok)

            let evil = try await client.execute(uri: "/auth/signin?callbackUrl=%2F%2Fevil.example", method: .get, headers: .browser)
            #expect(!evil.text.contains("evil.example"))
            // `redirect`, which a session requirement appends, is read too, under the same policy.
            let required = try await client.execute(uri: "/auth/signin?redirect=%2Faccount", method: .get, headers: .browser)
            #expect(required.text.contains("name=\"callbackUrl\" value=\"/account\""))
            let evilRedirect = try await client.execute(uri: "/auth/signin?redirect=https%3A%2F%2Fevil.example%2F", method: .get, headers: .browser)
            #expect(!evilRedirect.text.contains("evil.example"))
            let signOut = try await client.execute(uri: "/auth/signout", method: .get, headers: .browser)
            #expect(signOut.text.contains("Are you sure you want to sign out?") && signOut.text.contains("name=\"csrfToken\""))
            let verify = try await client.execute(uri: "/auth/verify-request", method: .get, headers: .browser)
            #expect(verify.text.contains("Check your email"))
            let error = try await client.execute(uri: "/auth/error?error=AccessDenied", method: .get, headers: .browser)
            #expect(error.text.contains("You do not have permission to sign in."))
            let reflected = try await client.execute(uri: "/auth/error?error=%3Cscript%3E", method: .get, headers: .browser)
            #expect(!reflected.text.contains("<script>"))
        }
    }
}
