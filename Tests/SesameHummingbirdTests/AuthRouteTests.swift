import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Sesame
import SesameHummingbird
import Testing

@Suite(.timeLimit(.minutes(3))) struct AuthRouteTests {
    // MARK: Index and routing

    @Test func indexListsProvidersAsJSONAndHTML() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/auth", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["providers"]?["link"]?["type"] == "link")
                #expect(response.json?["providers"]?["link"]?["authorize"] == "http://127.0.0.1:8080/auth/link/authorize")
                #expect(response.json?["providers"]?["sso"]?["callback"] == "http://127.0.0.1:8080/auth/sso/callback")
            }
            try await client.execute(uri: "/auth", method: .get, headers: .browser) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.text.contains("Email link"))
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            }
        }
    }

    @Test func unknownProviderIs404WithACodeOrARedirectForBrowsers() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/auth/nope/authorize", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.json?["error"] == "unknown_provider")
                #expect(response.json?["error_description"] != nil)
            }
            try await client.execute(uri: "/auth/nope/authorize", method: .get, headers: .browser) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/auth/error?error=unknown_provider")
            }
            try await client.execute(uri: "/auth/link/elsewhere", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.json?["error"] == "not_found")
            }
            try await client.execute(uri: "/auth/link/authorize", method: .delete) { response in
                #expect(response.status != .ok)
            }
        }
    }

    @Test func errorPageEscapesWhatItShows() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/auth/error?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E", method: .get, headers: .browser) { response in
                #expect(response.status == .ok)
                #expect(!response.text.contains("<script>"))
                #expect(response.text.contains("Sign-in did not complete"))
            }
            try await client.execute(uri: "/auth/error?error=expired_token", method: .get, headers: .browser) { response in
                #expect(response.text.contains("expired"))
            }
        }
    }

    // MARK: Magic links

    @Test func fullMagicLinkFlow() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let sent = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .sameOriginForm(), body: ByteBuffer(string: "email=Ada%40Example.COM&plan=pro"))
            #expect(sent.status == .ok)
            #expect(sent.json == ["sent": true])
            let binding = try #require(sent.linkBinding)
            #expect(binding.hasPrefix("sesame-link-link="))
            let delivered = try #require(app.outbox.last)
            // A parameter the app did not allow by name never becomes a claim.
            #expect(delivered.claims == ["email": "Ada@example.com"])
            #expect(delivered.link.hasPrefix("http://127.0.0.1:8080/auth/link/callback?token="))

            // Opened in the browser that asked for it, the link signs in at once.
            let signedIn = try await client.execute(uri: pathAndQuery(delivered.link), method: .get, headers: .browser.with(.cookie, binding))
            #expect(signedIn.status == .found)
            #expect(signedIn.headers[.location] == "http://127.0.0.1:8080/")
            #expect(signedIn.headers[.referrerPolicy] == "no-referrer")
            let cookie = try #require(signedIn.sessionCookie)
            #expect(signedIn.headers[.setCookie]?.contains("HttpOnly") == true)
            #expect(signedIn.headers[.setCookie]?.contains("SameSite=Lax") == true)
            #expect(signedIn.headers[values: .setCookie].contains { $0.hasPrefix("sesame-link-link=;") && $0.contains("Max-Age=0") })

            try await client.execute(uri: "/api/me", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                #expect(response.text == "user:email:Ada@example.com")
            }
            // The session token also works as a bearer token.
            let token = String(cookie.drop { $0 != "=" }.dropFirst())
            try await client.execute(uri: "/api/me", method: .get, headers: [.authorization: "bearer \(token)"]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    /// Parameters become claims only when the app allows them by name.
    @Test func onlyAllowedParametersBecomeClaims() async throws {
        var configured = try TestApp()
        configured.linkConfiguration.allowedParameters = ["plan"]
        let app = configured
        try await app.application.test(.router) { client in
            _ = try await client.execute(
                uri: "/auth/link/authorize", method: .post, headers: .form(),
                body: ByteBuffer(string: "email=ada%40example.com&plan=pro&role=admin&email_verified=true&sub=admin"))
            #expect(app.outbox.last?.claims == ["email": "ada@example.com", "plan": "pro"])
        }
    }

    /// Opened in another browser (or fetched by a mail scanner), a link redeems nothing: it shows a confirmation
    /// page, and only that page's same-origin POST signs in.
    @Test func aLinkOpenedElsewhereAsksForConfirmation() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let sent = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .sameOriginForm(), body: ByteBuffer(string: "email=ada%40example.com"))
            let binding = try #require(sent.linkBinding)
            let link = try #require(app.outbox.last?.link)
            let token = String(link.split(separator: "=", maxSplits: 1)[1])
            // A scanner's prefetch, another browser, and a forged binding cookie: a page, no session, nothing used.
            for cookie in [nil, "sesame-link-link=someone-elses", "sesame-link-link=" + String(binding.dropFirst("sesame-link-link=".count).dropLast()) + "x"] {
                var headers = HTTPFields.browser
                if let cookie { headers[.cookie] = cookie }
                let page = try await client.execute(uri: pathAndQuery(link), method: .get, headers: headers)
                #expect(page.status == .ok)
                #expect(page.sessionCookie == nil)
                #expect(page.text.contains("Sign in as <strong>ada@example.com</strong>?"))
                #expect(page.text.contains(#"<form method="post" action="http://127.0.0.1:8080/auth/link/callback">"#))
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(page.headers[.referrerPolicy] == "strict-origin")  // its form posts with a real Origin, its URL stays private
            }
            // The confirmation refused from another site (an attacker posting their own link to log a victim in).
            var foreign = HTTPFields.form()
            foreign[.origin] = "https://evil.example"
            try await client.execute(uri: "/auth/link/callback", method: .post, headers: foreign, body: ByteBuffer(string: "token=\(token)")) { response in
                #expect(response.status == .forbidden)
                #expect(response.sessionCookie == nil)
            }
            // The page's own POST signs in, once.
            var confirm = HTTPFields.form()
            confirm[.origin] = TestApp.baseURL
            let signedIn = try await client.execute(uri: "/auth/link/callback", method: .post, headers: confirm, body: ByteBuffer(string: "token=\(token)"))
            #expect(signedIn.status == .found)
            #expect(signedIn.sessionCookie != nil)
            try await client.execute(uri: "/auth/link/callback", method: .post, headers: confirm, body: ByteBuffer(string: "token=\(token)")) { response in
                #expect(response.json?["error"] == "used_token")
            }
            // And the binding cookie no longer signs in with it.
            try await client.execute(uri: pathAndQuery(link), method: .get, headers: [.cookie: binding]) { response in
                #expect(response.json?["error"] == "used_token")
            }
        }
    }

    /// A link asked for without proof that the request came from this site (no allowed `Origin` or `Referer`, no
    /// `Sec-Fetch-Site: same-origin`) is not bound to any browser: even the browser that asked must confirm. So a
    /// page elsewhere (a sibling subdomain, an old browser without Fetch Metadata, a `rel=noreferrer` link) that makes
    /// a victim's browser ask for the attacker's link cannot sign the victim in as the attacker without a word.
    @Test func aLinkAskedForWithoutProofOfOriginIsNeverBound() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            for headers: HTTPFields in [[:], [HTTPField.Name("Sec-Fetch-Site")!: "same-site"], [HTTPField.Name("Sec-Fetch-Site")!: "none"]] {
                let sent = try await client.execute(uri: "/auth/link/authorize?email=attacker@example.com", method: .get, headers: headers)
                #expect(sent.status == .ok)
                #expect(sent.linkBinding == nil)
                let link = try #require(app.outbox.last?.link)
                // Whatever cookie the browser has, the link asks first.
                let page = try await client.execute(uri: pathAndQuery(link), method: .get, headers: .browser.with(.cookie, "sesame-link-link=anything"))
                #expect(page.status == .ok && page.sessionCookie == nil)
                #expect(page.text.contains("Sign in as <strong>attacker@example.com</strong>?"))
            }
            // A same-origin form post, a same-origin Referer and Fetch Metadata each prove it, and bind the link.
            #expect(try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .sameOriginForm(), body: ByteBuffer(string: "email=ada@example.com")).linkBinding != nil)
            #expect(try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get, headers: [.referer: TestApp.baseURL + "/login"]).linkBinding != nil)
            #expect(try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get, headers: .sameOrigin).linkBinding != nil)
        }
    }

    /// Another site cannot make the link provider send mail, by any method.
    @Test func crossSiteLinkRequestsSendNothing() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let attempts: [(HTTPRequest.Method, HTTPFields)] = [
                (.get, [.secFetchSiteTest: "cross-site"]),
                (.get, [.referer: "https://evil.example/page"]),
                (.get, [.origin: "https://evil.example"]),
                (.get, [.origin: "null"]),
                (.post, [.contentType: "application/x-www-form-urlencoded", .secFetchSiteTest: "cross-site"]),
                (.post, [.contentType: "application/x-www-form-urlencoded", .referer: "https://127.0.0.1.evil.example/"]),
                (.post, [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"]),
            ]
            for (method, headers) in attempts {
                let uri = method == .get ? "/auth/link/authorize?email=ada@example.com" : "/auth/link/authorize"
                let body = method == .get ? ByteBuffer() : ByteBuffer(string: "email=ada@example.com")
                try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden, "\(method) \(headers)")
                    #expect(response.json?["error"] == "forbidden_origin")
                    #expect(response.linkBinding == nil)
                }
            }
            #expect(app.outbox.all.isEmpty)
            // Same-origin requests, and clients that send no browser headers at all, are served.
            try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get, headers: [.referer: TestApp.baseURL + "/signin", .secFetchSiteTest: "same-origin"]) { #expect($0.status == .ok) }
            try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get) { #expect($0.status == .ok) }
            #expect(app.outbox.all.count == 2)
        }
    }

    @Test func replayedLinkIsRefused() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let binding = try #require(try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get, headers: .sameOrigin).linkBinding)
            let link = try #require(app.outbox.last?.link)
            let first = try await client.execute(uri: pathAndQuery(link), method: .get, headers: [.cookie: binding])
            #expect(first.status == .found)
            let second = try await client.execute(uri: pathAndQuery(link), method: .get, headers: [.cookie: binding])
            #expect(second.status == .badRequest)
            #expect(second.json?["error"] == "used_token")
            #expect(second.sessionCookie == nil)
            let browser = try await client.execute(uri: pathAndQuery(link), method: .get, headers: .browser.with(.cookie, binding))
            #expect(browser.headers[.location] == "/auth/error?error=used_token")
        }
    }

    @Test func expiredLinkIsRefused() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            _ = try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get)
            let link = try #require(app.outbox.last?.link)
            app.clock.advance(600 + 6)
            let response = try await client.execute(uri: pathAndQuery(link), method: .get)
            #expect(response.status == .badRequest)
            #expect(response.json?["error"] == "expired_token")
            #expect(response.sessionCookie == nil)
        }
    }

    @Test func missingAndTamperedLinksAreRefused() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/auth/link/callback", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"] == "invalid_request")
            }
            _ = try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get)
            let link = try #require(app.outbox.last?.link)
            let token = String(link.split(separator: "=", maxSplits: 1)[1])
            var parts = token.split(separator: ".").map(String.init)
            var payload = try JSONValue(parsing: Base64URL.decode(parts[1])!).objectValue!
            payload["claims"] = ["email": "admin@example.com"]
            parts[1] = Base64URL.encode(JSONValue.object(payload).jsonBytes)
            for bad in [parts.joined(separator: "."), "garbage", String(repeating: "a", count: 9000), token + "x"] {
                try await client.execute(uri: "/auth/link/callback?token=\(bad)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.json?["error"] == "invalid_token")
                    #expect(response.sessionCookie == nil)
                }
            }
            #expect(app.outbox.all.count == 1)
        }
    }

    @Test func linkAndSessionTokensAreNotInterchangeable() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            // A session token presented as a link is refused …
            let sessionToken = try app.sessions.create(.user(email: "ada@example.com"))
            try await client.execute(uri: "/auth/link/callback?token=\(sessionToken)", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"] == "invalid_token")
            }
            // … and a link token presented as a session is no session (same keys, same signer).
            _ = try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get)
            let linkToken = String(try #require(app.outbox.last?.link).split(separator: "=", maxSplits: 1)[1])
            try await client.execute(uri: "/api/me", method: .get, headers: [.authorization: "Bearer \(linkToken)"]) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(throws: TokenError.wrongTokenType) { try app.sessions.verifyForTest(linkToken) }
        }
    }

    @Test func linkRequestsNeedAValidAddressAndSaneParameters() async throws {
        var configured = try TestApp()
        configured.linkConfiguration.allowedParameters = Set((0..<20).map { "p\($0)" } + ["long"])
        let app = configured
        try await app.application.test(.router) { client in
            for query in ["", "?email=", "?email=not-an-address", "?email=a@b", "?email=%3Cx%3E@example.com", "?email=a@@example.com"] {
                try await client.execute(uri: "/auth/link/authorize\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.json?["error"] == "invalid_request")
                }
            }
            // Allowed parameters are bounded in number and length.
            let many = (0..<20).map { "p\($0)=x" }.joined(separator: "&")
            try await client.execute(uri: "/auth/link/authorize?email=ada@example.com&\(many)", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/auth/link/authorize?email=ada@example.com&long=\(String(repeating: "x", count: 513))", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            #expect(app.outbox.all.isEmpty)
        }
    }

    @Test func answersTheSameForKnownAndUnknownAddresses() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let known = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .form(), body: ByteBuffer(string: "email=ada@example.com"))
            let unknown = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .form(), body: ByteBuffer(string: "email=nobody@example.com"))
            #expect(known.status == unknown.status)
            #expect(known.text == unknown.text)
            // Asked from the app's own page, each sets one binding cookie, the same but for its random value.
            let boundKnown = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .sameOriginForm(), body: ByteBuffer(string: "email=ada@example.com"))
            let boundUnknown = try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .sameOriginForm(), body: ByteBuffer(string: "email=nobody@example.com"))
            let shape = { (response: TestResponse) in response.headers[values: .setCookie].map { $0.replacing(/=[^;]*;/, with: "=…;", maxReplacements: 1) } }
            #expect(shape(boundKnown) == shape(boundUnknown) && shape(boundKnown).count == 1)
            #expect(boundKnown.text == boundUnknown.text)
        }
    }

    @Test func rateLimitsPerAddressAndPerClient() async throws {
        let app = try TestApp(perAddress: 2, perClient: 100)
        try await app.application.test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/auth/link/authorize?email=ADA@example.com", method: .get) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.json?["error"] == "rate_limited")
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            // Another address is not limited by Ada's bucket.
            try await client.execute(uri: "/auth/link/authorize?email=bob@example.com", method: .get) { #expect($0.status == .ok) }
            app.clock.advance(61)
            try await client.execute(uri: "/auth/link/authorize?email=ada@example.com", method: .get) { #expect($0.status == .ok) }
            #expect(app.outbox.all.count == 4)
        }
    }

    @Test func tokenBucketRefillsAndKeepsKeysApart() async throws {
        let clock = TestClock()
        let limiter = MemoryRateLimiter(capacity: 3, refillInterval: 60, now: clock.function)
        var refused: [Int] = []
        for _ in 0..<5 {
            if let retryAfter = try await limiter.consume("client:203.0.113.9") { refused.append(retryAfter) }
        }
        #expect(refused == [60, 60])
        #expect(try await limiter.consume("client:203.0.113.10") == nil)
        clock.advance(30)
        #expect(try await limiter.consume("client:203.0.113.9") == 30)
        clock.advance(30)
        #expect(try await limiter.consume("client:203.0.113.9") == nil)
    }

    @Test func concurrentRedemptionsOfOneLinkSucceedOnce() async throws {
        let store = MemoryReplayStore()
        let expiry = Date().addingTimeInterval(600)
        let successes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { try await store.consume("jti-1", expiresAt: expiry) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1)
    }

    @Test func refusesCrossOriginLinkRequests() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            var headers = HTTPFields.form()
            headers[.origin] = "https://evil.example"
            try await client.execute(uri: "/auth/link/authorize", method: .post, headers: headers, body: ByteBuffer(string: "email=ada@example.com")) { response in
                #expect(response.status == .forbidden)
                #expect(response.json?["error"] == "forbidden_origin")
            }
            headers[.origin] = "null"
            try await client.execute(uri: "/auth/link/authorize", method: .post, headers: headers, body: ByteBuffer(string: "email=ada@example.com")) { response in
                #expect(response.status == .forbidden)
            }
            headers[.origin] = TestApp.baseURL
            try await client.execute(uri: "/auth/link/authorize", method: .post, headers: headers, body: ByteBuffer(string: "email=ada@example.com")) { response in
                #expect(response.status == .ok)
            }
            #expect(app.outbox.all.count == 1)
        }
    }

    @Test func refusesOversizedBodies() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let big = ByteBuffer(string: "email=ada@example.com&x=" + String(repeating: "y", count: 70 * 1024))
            try await client.execute(uri: "/auth/link/authorize", method: .post, headers: .form(), body: big) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test func appRefusalEndsInTheErrorPage() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            let binding = try #require(try await client.execute(uri: "/auth/link/authorize?email=blocked@example.com", method: .get, headers: .sameOrigin).linkBinding)
            let link = try #require(app.outbox.last?.link)
            try await client.execute(uri: pathAndQuery(link), method: .get, headers: .browser.with(.cookie, binding)) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/auth/error?error=access_denied")
            }
        }
    }

    // MARK: Custom adapters

    @Test func multiTenantAdapterPicksTheProviderByQueryParameter() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/auth/sso/authorize?tenant=globex", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "http://127.0.0.1:8080/auth/sso/callback?tenant=globex")
            }
            let acme = try await client.execute(uri: "/auth/sso/callback?tenant=acme&user=wile", method: .get)
            #expect(acme.status == .found)
            let cookie = try #require(acme.sessionCookie)
            try await client.execute(uri: "/api/me", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.text == "user:email:wile@acme.example")
            }
            try await client.execute(uri: "/auth/sso/authorize?tenant=initech", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["error"] == "invalid_request")
            }
        }
    }
}

extension SessionTokens {
    /// The synchronous verification path, for checks that need no request.
    func verifyForTest(_ token: String) throws(TokenError) -> AuthSession<Subject> { try verifyUncached(token) }
}
