import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Sesame
import SesameHummingbird
import SesameTestSupport
import Testing

/// What Sesame logs during sign-in, sign-out, a refused token and a failed callback: the events, and never a
/// token, a cookie value, an authorization code, a state or a secret (ASVS 16.2.5).
@Suite(.serialized, .timeLimit(.minutes(3))) struct LogSecrecyTests {
    /// The values that must not appear in any log line, with a name for the failure message. Values shorter than
    /// 12 characters would match by chance and are left out.
    static func expectNoSecrets(_ lines: [String], _ secrets: [(String, String)]) {
        #expect(!lines.isEmpty)
        for (name, secret) in secrets where secret.count >= 12 {
            for line in lines { #expect(!line.contains(secret), "the log holds the \(name): \(line)") }
        }
    }

    static func cookieValue(_ pair: String?) -> String { String((pair ?? "").drop { $0 != "=" }.dropFirst()) }

    @Test func aMagicLinkSignInAndSignOutLogNoSecrets() async throws {
        let logs = LogCapture()
        var configured = try TestApp()
        configured.logger = logs.logger()
        let app = configured
        try await app.application.test(.router) { client in
            let sent = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .sameOriginForm(), body: ByteBuffer(string: "email=ada%40example.com"))
            let binding = try #require(sent.linkBinding)
            let link = try #require(app.outbox.last?.link)
            let linkToken = String(link.split(separator: "=", maxSplits: 1)[1])
            // A forged link, a replayed one, the confirmation page, and the real sign-in.
            _ = try await client.execute(uri: "/auth/link/callback?token=\(linkToken.dropLast(4))AAAA", method: .get)
            _ = try await client.execute(uri: pathAndQuery(link), method: .get, headers: .browser)
            let signedIn = try await client.execute(uri: pathAndQuery(link), method: .get, headers: [.cookie: binding])
            _ = try await client.execute(uri: pathAndQuery(link), method: .get, headers: [.cookie: binding])
            let session = try #require(signedIn.sessionCookie)
            // A refused (forged) session token, then the session used.
            _ = try await client.execute(uri: "/api/me", method: .get, headers: [.cookie: "sesame-session=\(Self.cookieValue(session).dropLast(4))AAAA"])
            _ = try await client.execute(uri: "/api/me", method: .get, headers: [.cookie: session])
            #expect(logs.lines.contains { $0.contains("Signed in") })
            #expect(logs.lines.contains { $0.contains("Auth request refused") && $0.contains("used_token") && $0.contains("path=/auth/link/callback") })
            Self.expectNoSecrets(logs.lines, [
                ("link token", linkToken), ("link token's signature", String(linkToken.split(separator: ".").last!)),
                ("binding cookie", Self.cookieValue(binding)), ("session token", Self.cookieValue(session)),
                ("session token's signature", String(Self.cookieValue(session).split(separator: ".").last!)),
            ])
        }
    }

    @Test func theAuthJSSignOutLogsNoSecrets() async throws {
        let logs = LogCapture()
        let app = try TestApp()
        let handler = AuthHandler(
            providers: [:], configuration: AuthConfiguration(baseURL: TestApp.baseURL), keys: app.keys, sessions: SessionAccess(app.sessions),
            logger: logs.logger()
        ) { _ in .json([:]) }
        let router = Router(context: BasicSesameRequestContext<TestSession>.self)
        router.addAuthHandler(handler)
        try await Application(router: router).test(.router) { client in
            let token = try app.sessions.create(.user(email: "ada@example.com"))
            let csrf = try await client.execute(uri: "/auth/csrf", method: .get)
            let csrfToken = try #require(csrf.json?["csrfToken"]?.stringValue)
            let csrfCookie = try #require(csrf.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
            var headers = HTTPFields.form()
            headers[.cookie] = "sesame-session=\(token); \(csrfCookie)"
            headers[.origin] = TestApp.baseURL
            _ = try await client.execute(uri: "/auth/session", method: .get, headers: [.cookie: "sesame-session=\(token)"])
            _ = try await client.execute(uri: "/auth/signout", method: .post, headers: headers, body: ByteBuffer(string: "csrfToken=wrong"))
            let out = try await client.execute(uri: "/auth/signout", method: .post, headers: headers, body: ByteBuffer(string: "csrfToken=\(csrfToken)"))
            #expect(out.status == .seeOther)
            #expect(logs.lines.contains { $0.contains("Signed out") })
            Self.expectNoSecrets(logs.lines, [
                ("session token", token), ("CSRF token", csrfToken), ("CSRF cookie", Self.cookieValue(csrfCookie)),
            ])
        }
    }

    @Test func anOpenIDConnectSignInLogsNoSecrets() async throws {
        let logs = LogCapture()
        try await OAuthFlowTests.withSetup(logger: logs.logger()) { setup in
            try await setup.application.test(.router) { client in
                // A callback without its flow cookie (refused), then the real one, then the same code replayed.
                let started = try await OAuthFlowTests.start("oidc", setup: setup, client: client)
                let query = URLEncodedForm(parsing: started.callbackPath.split(separator: "?", maxSplits: 1)[1])
                _ = try await client.execute(uri: started.callbackPath, method: .get)
                let callback = try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie])
                _ = try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie])
                let session = try #require(callback.sessionCookie)
                let tokens = try #require(setup.successes.last?.tokens)
                #expect(logs.lines.contains { $0.contains("Signed in") })
                #expect(logs.lines.contains { $0.contains("Auth request refused") && $0.contains("invalid_state") })
                Self.expectNoSecrets(logs.lines, [
                    ("authorization code", query["code"] ?? ""), ("state", query["state"] ?? ""), ("flow cookie", Self.cookieValue(started.flowCookie)),
                    ("client secret", setup.idp.clientSecret), ("session token", Self.cookieValue(session)),
                    ("ID token", tokens.idToken ?? ""), ("access token", tokens.accessToken), ("refresh token", tokens.refreshToken ?? ""),
                ])
            }
        }
    }
}
