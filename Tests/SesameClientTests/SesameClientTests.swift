import Foundation
import Hummingbird
import Logging
import Synchronization
import Sesame
import SesameClient
import SesameDemo
import SesameTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The Swift client against the live demo (stateless sessions, the native app `sesame-demo-app`) on a loopback
/// port: every call, refresh under concurrency, sign-out, the browser sign-in's exchange, and the errors.
@Suite(.timeLimit(.minutes(3))) struct SesameClientTests {
    static let redirectURI = "sesame-demo:/signed-in"

    /// A running demo and what the tests read from it.
    struct LiveDemo: Sendable {
        let base: URL
        let demo: Demo<SessionTokens<DemoSession>>
        let log: LogCapture

        func client(clientID: String = "sesame-demo-app", refreshMargin: TimeInterval = 30, storage: any SesameTokenStorage = MemoryTokenStorage()) -> SesameClient {
            SesameClient(configuration: .init(baseURL: base, clientID: clientID, redirectURI: SesameClientTests.redirectURI, refreshMargin: refreshMargin), storage: storage)
        }

        /// A verified password account.
        func account(_ email: String, password: String) async throws -> AuthUser {
            guard case .created(let user, let verification) = try await demo.passwords.signUp(email: email, password: password, client: nil) else {
                throw SesameClientError.invalidResponse("the address was taken")
            }
            _ = try await demo.passwords.verifyEmail(email, code: verification.code)
            return user
        }

        /// The latest sign-in link the demo logged for `email`.
        func link(for email: String) throws -> URL {
            let prefix = "Development sign-in link for \(email): "
            let line = try #require(log.lines.last { $0.contains(prefix) })
            return try #require(URL(string: String(line[line.range(of: prefix)!.upperBound...]).trimmingCharacters(in: .whitespaces)))
        }

        /// A plain request to the demo (no client), answered status and JSON.
        func raw(_ path: String, method: String = "GET", bearer: String? = nil, form: String? = nil) async throws -> (Int, [String: Any]?) {
            var request = URLRequest(url: base.appendingPathComponent(String(path.dropFirst())))
            request.httpMethod = method
            if let bearer { request.setValue("Bearer " + bearer, forHTTPHeaderField: "Authorization") }
            if let form {
                request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(form.utf8)
            }
            request.setValue("application/json", forHTTPHeaderField: "Accept")
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any])
        }
    }

    /// Runs the demo on a free loopback port for the duration of `body`.
    static func withDemo(_ body: @Sendable (LiveDemo) async throws -> Void) async throws {
        let port = try await LivePorts.free()
        let log = LogCapture()
        let demo = try Demo(configuration: DemoConfiguration(port: port), keys: KeySet(activeKey: JWK.generate(.es256)), logger: log.logger("demo"))
        let live = LiveDemo(base: URL(string: "http://127.0.0.1:\(port)")!, demo: demo, log: log)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await demo.application().runService() }
            // Until it listens.
            var ready = false
            for _ in 0..<200 where !ready {
                ready = (try? await live.raw("/auth/providers").0) == 200
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(ready)
            try await body(live)
            group.cancelAll()
        }
    }

    // MARK: Rejections first

    /// A wrong password, an unknown app, calls that need a sign-in, another sign-in's callback: each refused with its
    /// error, and the client stays signed out.
    @Test func errors() async throws {
        try await Self.withDemo { live in
            _ = try await live.account("errors@example.com", password: "a long enough passphrase")
            let client = live.client()
            await #expect(throws: SesameClientError.refused(code: "invalid_credentials", message: "The email address or password is not correct.", status: 401)) {
                try await client.signIn(email: "errors@example.com", password: "the wrong passphrase")
            }
            await #expect(throws: SesameClientError.refused(code: "invalid_credentials", message: "The email address or password is not correct.", status: 401)) {
                try await client.signIn(email: "nobody@example.com", password: "the wrong passphrase")
            }
            #expect(await client.state == .signedOut)
            #expect(try await client.session() == nil)
            await #expect(throws: SesameClientError.notSignedIn) { try await client.accessToken() }
            await #expect(throws: SesameClientError.notSignedIn) { try await client.data(for: URLRequest(url: live.base.appendingPathComponent("api/me"))) }
            await #expect(throws: SesameClientError.notSignedIn) { try await client.verifySecondFactor(code: "123456") }
            // An app the server does not know cannot start.
            let stranger = live.client(clientID: "another-app")
            await #expect(throws: SesameClientError.refused(code: "invalid_client", message: "This app is not registered to sign in here.", status: 401)) {
                try await stranger.signIn(email: "errors@example.com", password: "a long enough passphrase")
            }
            // A callback that is not this sign-in's.
            _ = await client.authorizationURL()
            await #expect(throws: SesameClientError.self) { try await client.completeSignIn(callbackURL: URL(string: Self.redirectURI + "?code=x&state=forged")!) }
            await #expect(throws: SesameClientError.self) { try await client.completeSignIn(callbackURL: URL(string: "https://evil.example/?code=x&state=y")!) }
            await #expect(throws: SesameClientError.self) { try await client.completeSignIn(callbackURL: URL(string: Self.redirectURI + "/more?code=x&state=y")!) }
            // A sign-in link of another origin: the sign-in's cookies never go there.
            try await client.requestSignInLink(email: "errors@example.com")
            var elsewhere = URLComponents(url: try live.link(for: "errors@example.com"), resolvingAgainstBaseURL: false)!
            elsewhere.port = (elsewhere.port ?? 80) + 1
            await #expect(throws: SesameClientError.invalidCallback("the link is not the server's")) { try await client.signIn(link: elsewhere.url!) }
            #expect(await client.state == .signedOut)
        }
    }

    // MARK: Password, session, API, refresh, sign-out

    @Test func passwordSignInSessionRefreshAndSignOut() async throws {
        try await Self.withDemo { live in
            _ = try await live.account("ada@example.com", password: "a long enough passphrase")
            let storage = MemoryTokenStorage()
            let client = live.client(storage: storage)
            let providers = try await client.providers()
            #expect(providers.map(\.id) == ["link", "passkey", "password"])
            #expect(providers.first { $0.id == "password" }?.type == "credentials")

            try await client.signIn(email: "ada@example.com", password: "a long enough passphrase")
            let session = try #require(try await client.session())
            #expect(session.email == "ada@example.com")
            #expect(await client.state == .signedIn(session))
            // The app's API with the access token.
            let (body, response) = try await client.data(for: URLRequest(url: live.base.appendingPathComponent("api/me")))
            #expect(response.statusCode == 200)
            #expect(String(decoding: body, as: UTF8.self).contains("ada@example.com"))
            let stored = try #require(try await storage.load())
            #expect(stored.refreshToken.hasPrefix("sr1.") && stored.accessTokenExpiresAt.timeIntervalSinceNow > 800)

            // Twenty callers at once on an app whose access token expires within the refresh margin: one refresh.
            // (The refreshed token is outside the margin, so a caller the scheduler starts after the refresh has
            // finished reads it rather than refreshing again; with a margin longer than the token's life, such a
            // late caller would rightly refresh once more.)
            var nearExpiry = stored
            nearExpiry.accessTokenExpiresAt = Date().addingTimeInterval(5)
            let sharedStorage = MemoryTokenStorage(nearExpiry)
            let eager = live.client(storage: sharedStorage)
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await eager.accessToken() } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1)
            #expect(tokens.first != stored.accessToken)
            let rotated = try #require(try await sharedStorage.load())
            #expect(rotated.refreshToken != stored.refreshToken && rotated.accessToken == tokens.first)
            // The family lives on: the client reads the rotated tokens.
            #expect(try await eager.session()?.email == "ada@example.com")

            try await client.signOut()
            #expect(await client.state == .signedOut)
            #expect(try await storage.load() == nil)
            // On the server: the family and its access token are gone.
            let current = try #require(tokens.first)
            #expect(try await live.raw("/api/me", bearer: current).0 == 401)
            let refused = try await live.raw("/auth/token", method: "POST", form: "grant_type=refresh_token&client_id=sesame-demo-app&refresh_token=" + rotated.refreshToken)
            #expect(refused.0 == 400 && refused.1?["error"] as? String == "invalid_grant")
        }
    }

    /// A revocation elsewhere (the user signed out everywhere): the client finds itself signed out.
    @Test func aRevokedFamilySignsTheClientOut() async throws {
        try await Self.withDemo { live in
            _ = try await live.account("revoked@example.com", password: "a long enough passphrase")
            let storage = MemoryTokenStorage()
            let client = live.client(storage: storage)
            let states = await client.stateUpdates()
            try await client.signIn(email: "revoked@example.com", password: "a long enough passphrase")
            let tokens = try #require(try await storage.load())
            #expect(try await live.raw("/auth/revoke", method: "POST", form: "client_id=sesame-demo-app&token=" + tokens.refreshToken).0 == 200)
            #expect(try await client.session() == nil)
            #expect(await client.state == .signedOut)
            #expect(try await storage.load() == nil)
            var seen: [SesameClient.State] = []
            for await state in states {
                seen.append(state)
                if seen.count == 3 { break }
            }
            #expect(seen == [.signedOut, .signedIn(nil), .signedOut])
        }
    }

    /// "Sign out everywhere" on the demo's account page (in a browser) ends the app's family too.
    @Test func signingOutEverywhereEndsTheAppsSession() async throws {
        try await Self.withDemo { live in
            _ = try await live.account("everywhere@example.com", password: "a long enough passphrase")
            let client = live.client()
            try await client.signIn(email: "everywhere@example.com", password: "a long enough passphrase")
            let access = try await client.accessToken()
            let browser = Browser(base: live.base)
            let csrf = try #require(try await browser.json(browser.get(live.base.appendingPathComponent("auth/csrf")))?["csrfToken"] as? String)
            let signedIn = try await browser.post(live.base.appendingPathComponent("auth/callback/password"), form: [
                ("email", "everywhere@example.com"), ("password", "a long enough passphrase"), ("csrfToken", csrf),
            ])
            #expect(signedIn.status == 302)
            #expect(try await browser.post(live.base.appendingPathComponent("account/signout-everywhere"), form: []).status == 303)
            #expect(try await live.raw("/api/me", bearer: access).0 == 401)
            #expect(try await client.session() == nil)
            #expect(await client.state == .signedOut)
        }
    }

    // MARK: Second factor

    @Test func passwordWithASecondFactor() async throws {
        try await Self.withDemo { live in
            let user = try await live.account("grace@example.com", password: "a long enough passphrase")
            let pending = try live.demo.secondFactors.beginEnrolment(userID: user.id, account: "grace@example.com")
            let secret = try #require(Self.base32(pending.secretText))
            let recovery = try await live.demo.secondFactors.confirmEnrolment(
                userID: user.id, sealedSecret: pending.sealedSecret, code: TOTPFactor(secret: secret).code(at: Date()))
            let client = live.client()
            await #expect(throws: SesameClientError.secondFactorRequired) { try await client.signIn(email: "grace@example.com", password: "a long enough passphrase") }
            #expect(await client.state == .signedOut)
            await #expect(throws: SesameClientError.refused(code: "invalid_code", message: "That code is not correct. Codes change every 30 seconds, and each works once.", status: 401)) {
                try await client.verifySecondFactor(code: "00000000")
            }
            try await client.verifySecondFactor(code: recovery[0])
            #expect(try await client.session()?.email == "grace@example.com")
        }
    }

    // MARK: Magic link

    @Test func magicLink() async throws {
        try await Self.withDemo { live in
            let client = live.client()
            try await client.requestSignInLink(email: "linked@example.com")
            let link = try live.link(for: "linked@example.com")
            try await client.signIn(link: link)
            #expect(try await client.session()?.email == "linked@example.com")
            // The link works once.
            let other = live.client()
            try await other.requestSignInLink(email: "linked@example.com")
            await #expect(throws: SesameClientError.self) { try await other.signIn(link: link) }
        }
    }

    // MARK: The system browser's exchange

    /// What `ASWebAuthenticationSession` does, with a separate cookie jar standing in for the browser: the sign-in
    /// page, a password sign-in there, the redirect back to the app with the code; the client exchanges it. A
    /// replayed callback is refused.
    @Test func browserSignInExchange() async throws {
        try await Self.withDemo { live in
            _ = try await live.account("browser@example.com", password: "a long enough passphrase")
            let client = live.client()
            let start = await client.authorizationURL()
            let browser = Browser(base: live.base)
            var response = try await browser.get(start)
            #expect(response.status == 303)
            #expect(response.location?.contains("/auth/signin?callbackUrl=") == true)
            let csrf = try #require(try await browser.json(browser.get(live.base.appendingPathComponent("auth/csrf")))?["csrfToken"] as? String)
            response = try await browser.post(live.base.appendingPathComponent("auth/callback/password"), form: [
                ("email", "browser@example.com"), ("password", "a long enough passphrase"), ("csrfToken", csrf), ("callbackUrl", "/auth/native/complete"),
            ])
            var location = try #require(response.location)
            for _ in 0..<5 where !location.hasPrefix(Self.redirectURI) {
                response = try await browser.get(URL(string: location, relativeTo: live.base)!.absoluteURL)
                location = try #require(response.location)
            }
            #expect(location.hasPrefix(Self.redirectURI + "?code="))
            let callback = try #require(URL(string: location))
            try await client.completeSignIn(callbackURL: callback)
            #expect(try await client.session()?.email == "browser@example.com")
            await #expect(throws: SesameClientError.self) { try await client.completeSignIn(callbackURL: callback) }
        }
    }

    // MARK: Update

    @Test func updateAnswersTheSession() async throws {
        try await Self.withDemo { live in
            _ = try await live.account("update@example.com", password: "a long enough passphrase")
            let client = live.client()
            try await client.signIn(email: "update@example.com", password: "a long enough passphrase")
            #expect(try await client.update(["name": "ignored by the demo"])?.email == "update@example.com")
        }
    }

    // MARK: Helpers

    /// A browser for the exchange test: its own cookies, no redirects followed.
    final class Browser: Sendable {
        let base: URL
        let cookies = Mutex<[String: String]>([:])
        let session: URLSession

        init(base: URL) {
            self.base = base
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpShouldSetCookies = false
            session = URLSession(configuration: configuration, delegate: Refuse(), delegateQueue: nil)
        }

        final class Refuse: NSObject, URLSessionTaskDelegate, Sendable {
            func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
                            completionHandler: @escaping @Sendable (URLRequest?) -> Void) { completionHandler(nil) }
        }

        struct Answer { let status: Int; let location: String?; let body: Data }

        func send(_ request: URLRequest) async throws -> Answer {
            var request = request
            request.setValue("navigate", forHTTPHeaderField: "Sec-Fetch-Mode")
            request.setValue("same-origin", forHTTPHeaderField: "Sec-Fetch-Site")
            let jar = cookies.withLock { $0 }
            if !jar.isEmpty { request.setValue(jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; "), forHTTPHeaderField: "Cookie") }
            let (data, response) = try await session.data(for: request)
            let http = response as! HTTPURLResponse
            for (name, value) in http.allHeaderFields where (name as? String)?.lowercased() == "set-cookie" {
                for field in (value as? String ?? "").components(separatedBy: ", ") {
                    let pair = field.prefix { $0 != ";" }
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    cookies.withLock { $0[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
                }
            }
            return Answer(status: http.statusCode, location: http.value(forHTTPHeaderField: "Location"), body: data)
        }

        func get(_ url: URL) async throws -> Answer { try await send(URLRequest(url: url)) }

        func post(_ url: URL, form: [(String, String)]) async throws -> Answer {
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.setValue(base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")), forHTTPHeaderField: "Origin")
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            request.httpBody = Data(form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
            return try await send(request)
        }

        func json(_ answer: Answer) -> [String: Any]? { (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any] }
    }

    /// RFC 4648 base32 (the enrolment's secret text, spaces ignored).
    static func base32(_ text: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0, value = 0
        var bytes: [UInt8] = []
        for character in text.uppercased() where character != " " && character != "=" {
            guard let index = alphabet.firstIndex(of: character) else { return nil }
            value = (value << 5) | index
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return bytes
    }
}
