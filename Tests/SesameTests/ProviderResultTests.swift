import HTTPTypes
import Synchronization
import Testing

@testable import Sesame

/// Providers return who signed in; the handler alone runs the app's step, checks `returnTo` and answers errors.
@Suite struct ProviderResultTests {
    final class Seen: Sendable {
        let successes = Mutex<[AuthSuccess]>([])
    }

    static func handler(_ result: @escaping @Sendable (AuthRequest) throws -> ProviderResult, seen: Seen) throws -> AuthHandler {
        let provider = CustomProvider(displayName: "Test") { _, context in .redirect(to: context.callbackURL) } callback: { request, _ in
            try result(request)
        }
        return AuthHandler(providers: ["test": provider], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: try KeySet(activeKey: JWK.generate(.es256))) { success in
            seen.successes.withLock { $0.append(success) }
            return .redirect(to: success.returnTo ?? "/", status: .found)
        }
    }

    static func callback(_ handler: AuthHandler, path: String = "/auth/test/callback") async -> AuthResponse {
        await handler.handle(AuthRequest(head: HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: path)))
    }

    @Test func theHandlerRunsTheAppsStepWithAnAllowedReturnToOnly() async throws {
        let seen = Seen()
        let allowed = try Self.handler({ _ in .signedIn(ProviderIdentity(claims: ["email": "a@example.com"], returnTo: "/dashboard")) }, seen: seen)
        #expect(await Self.callback(allowed).head.headerFields[.location] == "/dashboard")
        let foreign = try Self.handler({ _ in .signedIn(ProviderIdentity(claims: ["email": "a@example.com"], returnTo: "https://evil.example/")) }, seen: seen)
        #expect(await Self.callback(foreign).head.headerFields[.location] == "/")
        // A returnTo among the claims (a link request's parameters) is checked the same way.
        let claimed = try Self.handler({ _ in .signedIn(ProviderIdentity(claims: ["returnTo": "//evil.example/"])) }, seen: seen)
        #expect(await Self.callback(claimed).head.headerFields[.location] == "/")
        // Auth.js's callback path reaches the same callback.
        #expect(await Self.callback(allowed, path: "/auth/callback/test").head.headerFields[.location] == "/dashboard")
        #expect(seen.successes.withLock { $0.map(\.provider) } == ["test", "test", "test", "test"])
        #expect(seen.successes.withLock { $0.first?.claims["email"]?.stringValue } == "a@example.com")
    }

    @Test func aProviderThatAnswersItselfSignsNobodyIn() async throws {
        let seen = Seen()
        let handler = try Self.handler({ _ in .respond(.html("<p>Confirm?</p>")) }, seen: seen)
        let response = await Self.callback(handler)
        #expect(response.head.status == .ok && response.head.headerFields[.referrerPolicy] == "strict-origin")
        #expect(seen.successes.withLock { $0.isEmpty })
    }

    @Test func aProviderErrorIsAnsweredByTheHandler() async throws {
        let seen = Seen()
        let handler = try Self.handler({ _ in throw AuthError.invalidState }, seen: seen)
        let response = await Self.callback(handler)
        #expect(response.head.status == .badRequest)
        #expect(String(decoding: response.body, as: UTF8.self).contains("\"invalid_state\""))
        #expect(seen.successes.withLock { $0.isEmpty })
    }

    /// Paths become routes in one place; the actions' names are the reserved ones.
    @Test func routesAreParsedOnce() throws {
        func route(_ path: String) throws(AuthError) -> AuthRoute { try AuthRoute(path: path, prefix: "/auth", isProvider: { $0 == "github" }) }
        #expect(try route("/auth") == .index)
        #expect(try route("/auth/verify-request") == .action(.verifyRequest))
        #expect(try route("/auth/github/authorize") == .authorize(provider: "github"))
        #expect(try route("/auth/github/callback") == .callback(provider: "github"))
        #expect(try route("/auth/callback/github") == .callback(provider: "github"))
        #expect(try route("/auth/signin/github") == .signIn(provider: "github"))
        #expect(throws: AuthError.unknownProvider) { try route("/auth/gitlab/callback") }
        #expect(throws: AuthError.unknownProvider) { try route("/auth/callback/gitlab") }
        #expect(try route("/auth/github/other") == .step(provider: "github", step: "other"), "the provider says whether it has the step")
        #expect(throws: AuthError.unknownProvider) { try route("/auth/gitlab/other") }
        #expect(throws: AuthError.notFound) { try route("/auth/github/other/more") }
        #expect(throws: AuthError.notFound) { try route("/authority") }
        #expect(AuthHandler.reservedNames == [
            "providers", "csrf", "session", "signin", "signout", "callback", "error", "verify-request", "passkey.js", "client.js", "client.d.ts",
            "token", "revoke", "native", "webauthn-options",
        ])
        #expect(try route("/auth/client.js") == .action(.clientScript))
        #expect(try route("/auth/token") == .action(.token))
        #expect(try route("/auth/native/authorize") == .native(step: "authorize"))
        #expect(try route("/auth/passkey.js") == .action(.passkeyScript))
        #expect(throws: AuthError.unknownProvider) { try route("/auth/webauthn-options/passkey") }
    }
}
