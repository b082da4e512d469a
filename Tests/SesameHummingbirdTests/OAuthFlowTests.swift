import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Sesame
import SesameHummingbird
import Synchronization
import SesameTestSupport
import InMemoryTracing
import Logging
import Testing
import Tracing

/// The OAuth 2.0 and OpenID Connect flows end to end: the app (router test mode) talks over real HTTP to an
/// in-process identity provider on a loopback port, and a client without cookie jar or redirect following
/// plays the browser.
@Suite(.serialized, .timeLimit(.minutes(3))) struct OAuthFlowTests {
    /// What `onSuccess` saw.
    final class Successes: Sendable {
        let all = Mutex<[AuthSuccess]>([])
        var last: AuthSuccess? { all.withLock { $0.last } }
        /// The steps the configuration's step observer saw.
        let steps = Mutex<[FlowStep]>([])
    }

    struct Setup {
        let idp: TestIdentityProvider
        let app: TestApp
        let successes: Successes
        let http: HTTPClient
        let application: Application<RouterResponder<BasicSesameRequestContext<TestSession>>>
    }

    static func withSetup(logger: Logger = Logger(label: "test"), tracer: InMemoryTracer? = nil, _ test: @Sendable (Setup) async throws -> Void) async throws {
        let port = try await LiveServer.freePort()
        let idp = try TestIdentityProvider(port: port)
        let server = Application(router: idp.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        let app = try TestApp()
        let successes = Successes()
        let credentials = ClientCredentials(id: idp.clientID, secret: idp.clientSecret)
        let http = ProviderHTTPClient.shared.traced(by: tracer)
        let oidc = OIDCProvider(displayName: "Test OIDC", configuration: .init(issuer: idp.issuer, credentials: credentials), http: http)
        let oauth = OAuth2Provider(displayName: "Test OAuth", configuration: .init(
            credentials: credentials, authorizationURL: idp.issuer + "/authorize", tokenURL: idp.issuer + "/token",
            userInfoURL: idp.issuer + "/userinfo", scopes: ["openid", "email"]), http: http)
        let sessions = app.sessions
        let handler = AuthHandler(providers: ["oidc": oidc, "oauth": oauth], configuration: AuthConfiguration(baseURL: TestApp.baseURL, stepObserver: { step, duration in
            precondition(duration >= .zero)
            successes.steps.withLock { $0.append(step) }
        }, tracer: tracer), keys: app.keys, logger: logger) { success in
            successes.all.withLock { $0.append(success) }
            guard let email = success.profile?.email, success.profile?.emailVerified == true else { throw AuthError.accessDenied }
            return AuthResponse(try sessions.cookie(.user(email: email), redirect: TestApp.baseURL + (success.returnTo ?? "/")))
        }
        let router = Router(context: BasicSesameRequestContext<TestSession>.self)
        router.addAuthHandler(handler)
        let application = Application(router: router)
        try await LiveServer.run(server) { http in
            // Wait for the provider to listen.
            _ = try await http.send(idp.issuer + "/.well-known/openid-configuration")
            try await test(Setup(idp: idp, app: app, successes: successes, http: http, application: application))
        }
    }

    /// The browser's part: authorize at the app, visit the provider, come back with the provider's redirect.
    struct Started {
        let providerLocation: String
        let flowCookie: String
        let callbackPath: String
    }

    static func start(_ provider: String, setup: Setup, client: some TestClientProtocol, query: String = "") async throws -> Started {
        let authorize = try await client.execute(uri: "/auth/\(provider)/authorize\(query)", method: .get, headers: .browser)
        #expect(authorize.status == .found)
        let location = try #require(authorize.headers[.location])
        let flowCookie = try #require(authorize.headers[.setCookie].map { String($0.prefix { $0 != ";" }) })
        #expect(flowCookie.hasPrefix("sesame-flow-\(provider)="))
        let atProvider = try await setup.http.send(location)
        #expect(atProvider.status == .found)
        let back = try #require(atProvider.headers["location"].first)
        return Started(providerLocation: location, flowCookie: flowCookie, callbackPath: pathAndQuery(back))
    }

    // MARK: Success

    @Test func openIDConnectSignIn() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client, query: "?returnTo=%2Fdashboard")
                let query = URLEncodedForm(parsing: started.providerLocation.split(separator: "?", maxSplits: 1)[1])
                #expect(query["redirect_uri"] == "http://127.0.0.1:8080/auth/oidc/callback")
                #expect(query["code_challenge_method"] == "S256")
                #expect(Base64URL.decode(query["state"] ?? "")?.count == 32)
                #expect(Base64URL.decode(query["nonce"] ?? "")?.count == 32)
                #expect(Base64URL.decode(query["code_challenge"] ?? "")?.count == 32)
                #expect(query["scope"] == "openid email profile")

                let callback = try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie, .accept: "text/html"])
                #expect(callback.status == .found)
                #expect(callback.headers[.location] == "http://127.0.0.1:8080/dashboard")
                #expect(callback.sessionCookie != nil)
                #expect(callback.headers[values: .setCookie].contains { $0.hasPrefix("sesame-flow-oidc=;") && $0.contains("Max-Age=0") })
                let success = try #require(setup.successes.last)
                #expect(success.provider == "oidc")
                #expect(success.profile == Profile(id: "alice", email: "alice@example.com", emailVerified: true, name: "Test User"))
                #expect(success.tokens?.accessToken == "at-alice")
                #expect(success.tokens?.refreshToken == "rt-1")
                #expect(success.tokens?.idToken != nil)
                #expect(success.tokens?.expiresAt != nil)
                #expect(success.claims["iss"] == .string(setup.idp.issuer))
                #expect(setup.successes.steps.withLock { $0 } == [.stateCheck, .codeExchange, .idTokenVerification, .signIn])
            }
        }
    }

    /// With a tracer: a `sesame.sign_in` span around the callback, a child per step, the provider HTTP calls beneath
    /// them with the trace context injected into the request the provider receives; no attribute holds the code,
    /// the state, a token or the user's address, and a refused callback's span carries the stable code.
    @Test func aSignInIsTraced() async throws {
        let tracer = InMemoryTracer()
        try await Self.withSetup(tracer: tracer) { setup in
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client)
                let callback = try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie, .accept: "text/html"])
                #expect(callback.status == .found)
                let spans = tracer.finishedSpans
                let signIn = try #require(spans.first { $0.operationName == "sesame.sign_in" })
                #expect(signIn.attributes["sesame.provider"]?.toSpanAttribute() == "oidc")
                #expect(signIn.attributes["sesame.error"] == nil)
                let steps = spans.filter { $0.operationName.hasPrefix("sesame.step.") }
                #expect(steps.map(\.operationName) == ["sesame.step.state_check", "sesame.step.code_exchange", "sesame.step.id_token_verification", "sesame.step.sign_in"])
                for step in steps {
                    #expect(step.parentSpanID == signIn.spanID && step.traceID == signIn.traceID, "\(step.operationName)")
                    #expect(step.attributes["sesame.provider"]?.toSpanAttribute() == "oidc")
                }
                // The flow's one-time redemption: a store span under the state check.
                let stateCheck = try #require(steps.first)
                let consume = try #require(spans.first { $0.operationName == "sesame.store.consume" })
                #expect(consume.parentSpanID == stateCheck.spanID && consume.kind == .client)
                #expect(consume.attributes["sesame.store"]?.toSpanAttribute() == "MemoryReplayStore")
                // The token request: a client span under the code exchange, its context in the request's headers.
                let exchange = try #require(spans.first { $0.operationName == "sesame.step.code_exchange" })
                let post = try #require(spans.first { $0.operationName == "HTTP POST" })
                #expect(post.kind == .client && post.parentSpanID == exchange.spanID)
                #expect(post.attributes["server.address"]?.toSpanAttribute() == "127.0.0.1")
                #expect(post.attributes["url.path"]?.toSpanAttribute() == "/token")
                #expect(post.attributes["http.response.status_code"]?.toSpanAttribute() == 200)
                let headers = try #require(setup.idp.tokenRequestHeaders.withLock { $0.last })
                #expect(headers[HTTPField.Name(InMemoryTracer.traceIDKey)!] == post.traceID)
                #expect(headers[HTTPField.Name(InMemoryTracer.spanIDKey)!] == post.spanID)

                // Nothing secret or personal in any attribute.
                let query = URLEncodedForm(parsing: String(started.callbackPath.drop { $0 != "?" }.dropFirst()))
                let secrets = [query["code"], query["state"], "alice@example.com", "at-alice", "rt-1", started.flowCookie].compactMap { $0 }
                for span in spans {
                    span.attributes.forEach { name, attribute in
                        let value = "\(attribute)"
                        for secret in secrets { #expect(!value.contains(secret), "\(span.operationName) \(name)") }
                    }
                }

                // A replayed callback: the sign-in span records the refusal's code.
                tracer.clearAll()
                let replayed = try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie, .accept: "application/json"])
                #expect(replayed.status.code >= 400 && replayed.status.code < 500)
                let refused = try #require(tracer.finishedSpans.first { $0.operationName == "sesame.sign_in" })
                #expect(refused.attributes["sesame.error"] != nil)
            }
        }
    }

    @Test func oauth2SignInReadsTheUserInfo() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oauth", setup: setup, client: client)
                #expect(!started.providerLocation.contains("nonce="))
                let callback = try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie])
                #expect(callback.status == .found)
                let success = try #require(setup.successes.last)
                #expect(success.profile?.email == "alice@example.com")
                #expect(success.rawProfile?["name"] == "Test User")
                #expect(setup.successes.steps.withLock { $0 } == [.stateCheck, .codeExchange, .userInfo, .signIn])
                #expect(FlowStep.userInfo.description == "user_info")
            }
        }
    }

    @Test func keyRotationRefetchesTheJWKS() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                let first = try await Self.start("oidc", setup: setup, client: client)
                #expect(try await client.execute(uri: first.callbackPath, method: .get, headers: [.cookie: first.flowCookie]).status == .found)
                // The provider rotates: its tokens now carry a kid the cached JWKS does not know.
                setup.idp.knobs.withLock { $0.rotatedKey = try? JWK.generate(.rs256, keyID: "idp-key-2") }
                let second = try await Self.start("oidc", setup: setup, client: client)
                #expect(try await client.execute(uri: second.callbackPath, method: .get, headers: [.cookie: second.flowCookie]).status == .found)
                #expect(setup.idp.jwksRequestCount == 2)
            }
        }
    }

    @Test func unknownKeyIDsForceAtMostOneJWKSFetchAMinute() async throws {
        try await Self.withSetup { setup in
            setup.idp.knobs.withLock { $0.idToken = .unknownKey }
            try await setup.application.test(.router) { client in
                for _ in 0..<3 {
                    let started = try await Self.start("oidc", setup: setup, client: client)
                    try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie]) { response in
                        #expect(response.json?["error"] == "invalid_id_token")
                    }
                }
                // The first fetch, and one forced refetch for the unknown kid; the later ones are rate-limited.
                #expect(setup.idp.jwksRequestCount == 2)
            }
        }
    }

    // MARK: State

    @Test func missingTamperedOrForeignStateIsRejected() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client)
                // No flow cookie at all.
                try await client.execute(uri: started.callbackPath, method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.json?["error"] == "invalid_state")
                }
                // The state parameter changed.
                let tampered = started.callbackPath.replacingOccurrences(of: "state=", with: "state=x")
                try await client.execute(uri: tampered, method: .get, headers: [.cookie: started.flowCookie]) { response in
                    #expect(response.json?["error"] == "invalid_state")
                }
                // No state parameter.
                var parts = URLEncodedForm(parsing: started.callbackPath.split(separator: "?", maxSplits: 1)[1])
                parts = URLEncodedForm(parts.pairs.filter { $0.name != "state" })
                try await client.execute(uri: "/auth/oidc/callback?\(parts.encoded)", method: .get, headers: [.cookie: started.flowCookie]) { response in
                    #expect(response.json?["error"] == "invalid_state")
                }
                // A forged flow cookie.
                try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie + "x"]) { response in
                    #expect(response.json?["error"] == "invalid_state")
                }
                // Another provider's flow cookie, renamed: bound to that provider's callback, so refused.
                let other = try await Self.start("oauth", setup: setup, client: client)
                let renamed = "sesame-flow-oidc=" + other.flowCookie.drop { $0 != "=" }.dropFirst()
                try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: renamed]) { response in
                    #expect(response.json?["error"] == "invalid_state")
                }
                // None of these reached the token endpoint.
                #expect(setup.idp.tokenRequestCount == 0)
                // The step observer saw five failed state checks and nothing after them.
                #expect(setup.successes.steps.withLock { $0 } == Array(repeating: .stateCheck, count: 5))
                // The genuine callback still works.
                #expect(try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie]).status == .found)
            }
        }
    }

    @Test func replayedCallbackAndReplayedCodeAreRejected() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client)
                #expect(try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie]).status == .found)
                // The same callback again, with a copy of the (since cleared) flow cookie.
                try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie]) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.json?["error"] == "invalid_state")
                }
                // The used code under a fresh flow: the provider refuses it.
                let fresh = try await Self.start("oidc", setup: setup, client: client)
                let oldCode = URLEncodedForm(parsing: started.callbackPath.split(separator: "?", maxSplits: 1)[1])["code"]!
                var pairs = URLEncodedForm(parsing: fresh.callbackPath.split(separator: "?", maxSplits: 1)[1]).pairs
                pairs = pairs.map { $0.name == "code" ? (name: "code", value: oldCode) : $0 }
                try await client.execute(uri: "/auth/oidc/callback?\(URLEncodedForm(pairs).encoded)", method: .get, headers: [.cookie: fresh.flowCookie]) { response in
                    #expect(response.status == .badGateway)
                    #expect(response.json?["error"] == "oauth_callback")
                    #expect(response.sessionCookie == nil)
                }
            }
        }
    }

    // MARK: ID tokens

    @Test(arguments: [
        TestIdentityProvider.IDTokenFault.wrongNonce, .missingNonce, .wrongIssuer, .wrongAudience, .expired, .algNone,
        .hmacWithPublicKey, .badSignature, .unknownKey,
    ])
    func badIDTokensAreRejected(_ fault: TestIdentityProvider.IDTokenFault) async throws {
        try await Self.withSetup { setup in
            setup.idp.knobs.withLock { $0.idToken = fault }
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client)
                try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie]) { response in
                    #expect(response.status == .badRequest, "\(fault)")
                    #expect(response.json?["error"] == "invalid_id_token", "\(fault)")
                    #expect(response.sessionCookie == nil)
                    #expect(response.headers[values: .setCookie].contains { $0.hasPrefix("sesame-flow-oidc=;") })
                }
                #expect(setup.successes.last == nil)
            }
        }
    }

    @Test func issuerResponseParameterIsChecked() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                // A different `iss` in the authorization response.
                let started = try await Self.start("oidc", setup: setup, client: client)
                let wrongIssuer = started.callbackPath.replacingOccurrences(of: "iss=http", with: "iss=https")
                try await client.execute(uri: wrongIssuer, method: .get, headers: [.cookie: started.flowCookie]) { response in
                    #expect(response.json?["error"] == "oauth_callback")
                }
                // No `iss` although the provider advertises it.
                setup.idp.knobs.withLock { $0.sendsIssuer = false }
                let silent = try await Self.start("oidc", setup: setup, client: client)
                try await client.execute(uri: silent.callbackPath, method: .get, headers: [.cookie: silent.flowCookie]) { response in
                    #expect(response.json?["error"] == "oauth_callback")
                }
            }
        }
    }

    // MARK: Provider failures

    @Test func providerRefusalIsAccessDenied() async throws {
        try await Self.withSetup { setup in
            setup.idp.knobs.withLock { $0.authorizeError = "access_denied" }
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client)
                try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie, .accept: "text/html", .secFetchModeTest: "navigate"]) { response in
                    #expect(response.status == .found)
                    #expect(response.headers[.location] == "/auth/error?error=access_denied")
                    #expect(response.headers[values: .setCookie].contains { $0.hasPrefix("sesame-flow-oidc=;") })
                }
            }
        }
    }

    @Test(arguments: [TestIdentityProvider.TokenFault.serverError, .malformedJSON, .noAccessToken, .redirect])
    func tokenEndpointFailuresEndTheFlow(_ fault: TestIdentityProvider.TokenFault) async throws {
        try await Self.withSetup { setup in
            setup.idp.knobs.withLock { $0.token = fault }
            try await setup.application.test(.router) { client in
                let started = try await Self.start("oidc", setup: setup, client: client)
                try await client.execute(uri: started.callbackPath, method: .get, headers: [.cookie: started.flowCookie]) { response in
                    #expect(response.status == .badGateway, "\(fault)")
                    #expect(response.json?["error"] == "oauth_callback", "\(fault)")
                    #expect(response.sessionCookie == nil)
                }
            }
        }
    }

    @Test func callbackURLComesFromTheBaseURLNotTheHost() async throws {
        try await Self.withSetup { setup in
            try await setup.application.test(.router) { client in
                let response = try await client.execute(uri: "/auth/oidc/authorize", method: .get, headers: [.xForwardedHost: "evil.example"])
                let location = try #require(response.headers[.location])
                #expect(location.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Foidc%2Fcallback"))
                #expect(!location.contains("evil"))
                // An off-site returnTo is dropped.
                let offsite = try await client.execute(uri: "/auth/oidc/authorize?returnTo=https%3A%2F%2Fevil.example%2F", method: .get)
                #expect(offsite.status == .found)
            }
        }
    }

    @Test func unreachableProviderFailsToStart() async throws {
        let app = try TestApp()
        let oidc = OIDCProvider(displayName: "Down", configuration: .init(issuer: "http://127.0.0.1:1", credentials: ClientCredentials(id: "x", secret: "y")))
        let handler = AuthHandler(providers: ["down": oidc], configuration: AuthConfiguration(baseURL: TestApp.baseURL), keys: app.keys) { _ in
            AuthResponse.json([:])
        }
        let router = Router(context: BasicSesameRequestContext<TestSession>.self)
        router.addAuthHandler(handler)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/auth/down/authorize", method: .get) { response in
                #expect(response.status == .badGateway)
                #expect(response.json?["error"] == "oauth_signin")
            }
        }
    }
}

extension HTTPField.Name {
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
}
