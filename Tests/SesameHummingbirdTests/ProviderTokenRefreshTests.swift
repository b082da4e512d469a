import AsyncHTTPClient
import Foundation
import HTTPTypes
@testable import Sesame
import SesameSQLite
import SesameTestSupport
import Testing

/// Provider tokens kept and refreshed, against django-oauth-toolkit with refresh-token rotation and reuse
/// protection on (a refresh token works once; a reused one revokes its family): a real sign-in stores the tokens,
/// then 50 callers in two "processes" (two `Accounts` over two connections to one SQLite file) ask for an access
/// token once it has expired, and exactly one refresh request reaches the provider.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ProviderTokenRefreshTests {
    enum AppSession: SessionSubject { case user(id: String) }
    static let redirectURI = "http://127.0.0.1:8080/auth/django/callback"

    /// How many refresh grants reached the provider's token endpoint.
    static func refreshCount(_ browser: ProviderBrowser) async throws -> Int {
        try #require(Int(try await browser.send(browser.origin + "/test/refresh-count").text))
    }

    @Test func aRefreshHappensOnceAcrossCallersAndProcesses() async throws {
        try await OIDCTestProvider.run(redirectURI: Self.redirectURI) { issuer, http in
            let browser = ProviderBrowser(http: http, origin: String(issuer.dropLast(2)))
            let provider = OIDCTestProvider.provider(issuer: issuer)
            let keys = try KeySet(activeKey: JWK.generate(.es256))
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-refresh-" + UUID().uuidString)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("accounts.sqlite").path
            let storeA = SQLiteAccountStore(path: path), storeB = SQLiteAccountStore(path: path)

            // A real sign-in through the handler stores the provider's tokens with the account.
            let sessions = try SessionTokens<AppSession>(keys: keys)
            let handler = AuthHandler(
                providers: ["django": provider], configuration: AuthConfiguration(baseURL: "http://127.0.0.1:8080"), keys: keys,
                accounts: Accounts(store: storeA, keys: keys), sessions: sessions,
                subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } })
            let authorize = await handler.handle(AuthRequest(head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:8080", path: "/auth/django/authorize")))
            let flowCookie = try #require(authorize.head.headerFields[.setCookie].map { String($0.prefix { $0 != ";" }) })
            let back = try await browser.signIn(from: try #require(authorize.head.headerFields[.location]))
            var callback = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:8080", path: String(back.dropFirst("http://127.0.0.1:8080".count)))
            callback.headerFields[.cookie] = flowCookie
            let signedIn = await handler.handle(AuthRequest(head: callback))
            #expect(signedIn.head.status == .found, "\(String(decoding: signedIn.body, as: UTF8.self))")
            let accounts = Accounts(store: storeA, keys: keys)
            let user = try #require(try await storeA.user(email: "ada@example.com"))
            let original = try #require(try await accounts.providerTokens(userID: user.id, provider: "django"))
            #expect(original.refreshToken != nil && original.expiresAt != nil)
            // While the token is valid it is returned as it is, and the provider is not asked.
            let before = try await Self.refreshCount(browser)
            #expect(try await accounts.accessToken(userID: user.id, provider: "django") == original.accessToken)

            // The stored access token expires (its record says so; the refresh token is the provider's real one):
            // 25 callers in each of two processes.
            let key = try #require(try await storeA.accounts(userID: user.id).first?.key)
            let sealer = ProviderTokenSealer(keys: keys)
            func expire() async throws {
                let account = try #require(try await storeA.account(key))
                let sealed = try #require(account.sealedTokens)
                var tokens = try #require(sealer.open(sealed, for: key))
                tokens.expiresAt = Date().addingTimeInterval(-1)
                #expect(try await storeA.replaceTokens(key, expected: account.sealedTokens, with: sealer.seal(tokens, for: key), needsReauthentication: false))
            }
            func process(_ store: SQLiteAccountStore) -> Accounts {
                Accounts(store: store, keys: keys, refreshers: ["django": provider])
            }
            func ask(_ processes: [Accounts]) async throws -> [String] {
                try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<50 {
                        group.addTask { try await processes[index % processes.count].accessToken(userID: user.id, provider: "django") }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            try await expire()
            let first = try await ask([process(storeA), process(storeB)])
            #expect(Set(first).count == 1 && first[0] != original.accessToken)
            #expect(try await Self.refreshCount(browser) == before + 1, "exactly one refresh request reached the provider")
            let rotated = try #require(try await accounts.providerTokens(userID: user.id, provider: "django"))
            #expect(rotated.accessToken == first[0] && rotated.refreshToken != original.refreshToken, "the rotated refresh token was stored")

            // Again later: the rotated refresh token works (so it was stored atomically with its access token), once.
            try await expire()
            let second = try await ask([process(storeA), process(storeB)])
            #expect(Set(second).count == 1 && second[0] != first[0])
            #expect(try await Self.refreshCount(browser) == before + 2)

            // A provider that cannot be reached: a clear error, and nothing changes (no lease is left behind).
            try await expire()
            let stored = try await storeA.account(key)
            let unreachable = OAuth2Provider(displayName: "down", configuration: .init(
                credentials: ClientCredentials(id: "x", secret: "y"), authorizationURL: "http://127.0.0.1:1/authorize",
                tokenURL: "http://127.0.0.1:1/token", userInfoURL: "http://127.0.0.1:1/me"))
            let down = Accounts(store: storeA, keys: keys, refreshers: ["django": unreachable])
            await #expect(throws: AuthError.providerUnavailable) { try await down.accessToken(userID: user.id, provider: "django") }
            #expect(try await storeA.account(key) == stored)
            #expect(try await storeA.claimTokenRefresh(key, until: Date().addingTimeInterval(60), now: Date()) != nil, "the lease was released")
            try await storeA.releaseTokenRefresh(key)

            // A refresh token the provider refuses (invalid_grant) marks the account: the user must sign in again,
            // and later calls do not ask the provider.
            let bogus = try sealer.seal(TokenSet(accessToken: "old", refreshToken: "not-a-refresh-token", expiresAt: Date()), for: key)
            #expect(try await storeA.replaceTokens(key, expected: stored?.sealedTokens, with: bogus, needsReauthentication: false))
            let refused = process(storeA)
            await #expect(throws: AuthError.reauthenticationRequired) { try await refused.accessToken(userID: user.id, provider: "django") }
            #expect(try await storeA.account(key)?.needsReauthentication == true)
            let count = try await Self.refreshCount(browser)
            await #expect(throws: AuthError.reauthenticationRequired) { try await refused.accessToken(userID: user.id, provider: "django") }
            #expect(try await Self.refreshCount(browser) == count)
            await #expect(throws: AuthError.notFound) { try await refused.accessToken(userID: user.id, provider: "github") }
            try await storeA.close()
            try await storeB.close()
        }
    }
}
