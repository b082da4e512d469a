import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Sesame

/// `AuthHandler` with an account store: sign-in, linking and refusals with no app code, over the handler's own
/// request path (provider callback → signIn callback → accounts → session).
@Suite struct AccountSignInTests {
    enum AppSession: SessionSubject { case user(id: String), apiKey(id: String) }

    /// A provider whose callback reports the identity its query names: `?id=…&email=…&verified=1`.
    static func provider(_ type: String) -> CustomProvider {
        CustomProvider(type: type, displayName: type) { _, _ in AuthResponse(HTTPResponse(status: .noContent)) } callback: { request, _ in
            let query = request.query
            guard let id = query["id"] else { throw AuthError.invalidRequest }
            return .signedIn(ProviderIdentity(
                claims: [:], tokens: TokenSet(accessToken: "at-" + id),
                profile: Profile(id: id, email: query["email"], emailVerified: query["verified"] == "1", name: "Ada")))
        }
    }

    static func harness(store: any AccountStore = MemoryAccountStore(), sessionStore: any SessionStore = MemorySessionStore()) throws -> (AuthHandler, Accounts, Events) {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let accounts = Accounts(store: store, keys: keys)
        let sessions = StoredSessions<AppSession, Int>(store: sessionStore, signer: SessionCookieSigner(keys: keys))
        let events = Events()
        let handler = AuthHandler(
            providers: ["github": provider("oauth"), "gitlab": provider("oauth")],
            configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys, accounts: accounts, sessions: sessions,
            subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } },
            callbacks: AuthCallbacks(event: { event in events.record(event.name) }))
        return (handler, accounts, events)
    }

    final class Events: Sendable {
        private let names = Mutex<[String]>([])
        func record(_ name: String) { names.withLock { $0.append(name) } }
        /// The events other than `session` (which the session action emits).
        var all: [String] { names.withLock { $0 }.filter { $0 != "session" } }
    }

    static func request(_ path: String, cookie: String? = nil, browser: Bool = true) -> AuthRequest {
        var head = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: path)
        if let cookie { head.headerFields[.cookie] = cookie }
        if browser { head.headerFields[HTTPField.Name("Sec-Fetch-Mode")!] = "navigate" }
        return AuthRequest(head: head)
    }

    static func sessionCookie(_ response: AuthResponse) -> String? {
        response.head.headerFields[values: .setCookie].first { $0.hasPrefix("__Host-sesame-sid=") && !$0.hasPrefix("__Host-sesame-sid=;") }
            .map { String($0.prefix { $0 != ";" }) }
    }

    @Test func signUpSignInAndLinkNeedNoAppCode() async throws {
        let (handler, accounts, events) = try Self.harness()
        let first = await handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com&verified=1"))
        #expect(first.head.status.kind == .redirection)
        let cookie = try #require(Self.sessionCookie(first))
        #expect(events.all == ["createUser", "signIn"])

        let session = try JSONValue(parsing: await handler.handle(Self.request("/auth/session", cookie: cookie, browser: false)).body)
        #expect(session["user"]?["email"] == "ada@example.com" && session["user"]?["name"] == "Ada")
        let userID = try #require(session["user"]?["id"]?.stringValue)

        // Signed in, completing GitLab's sign-in links it, with a new session ID.
        let linked = await handler.handle(Self.request("/auth/gitlab/callback?id=7", cookie: cookie))
        let second = try #require(Self.sessionCookie(linked))
        #expect(second != cookie)
        #expect(events.all == ["createUser", "signIn", "linkAccount", "signIn"])
        #expect(Set(try await accounts.linkedAccounts(userID: userID).map(\.key.provider)) == ["github", "gitlab"])

        // GitLab alone now signs the same user in; no event.
        let again = await handler.handle(Self.request("/auth/gitlab/callback?id=7"))
        let third = try #require(Self.sessionCookie(again))
        let resolved = try JSONValue(parsing: await handler.handle(Self.request("/auth/session", cookie: third, browser: false)).body)
        #expect(resolved["user"]?["id"]?.stringValue == userID)
        #expect(events.all == ["createUser", "signIn", "linkAccount", "signIn", "signIn"])
        #expect(try await accounts.providerTokens(userID: userID, provider: "gitlab")?.accessToken == "at-7")

        // The provider's tokens never reach the browser: not in a callback's answer, not in the session action's.
        let sessionAnswer = await handler.handle(Self.request("/auth/session", cookie: third, browser: false))
        for response in [first, linked, again, sessionAnswer] {
            let text = String(decoding: response.body, as: UTF8.self) + response.head.headerFields.map(\.value).joined()
            #expect(!text.contains("at-1") && !text.contains("at-7"))
        }
    }

    /// An address that is not proven on both sides does not join a new identity to a user: browsers land on the
    /// error page with `account_not_linked`, API clients get 403 with the code, and nothing is created.
    @Test func anUnprovenAddressIsRefusedWithAccountNotLinked() async throws {
        let (handler, accounts, events) = try Self.harness()
        _ = await handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com&verified=1"))
        let browser = await handler.handle(Self.request("/auth/gitlab/callback?id=9&email=ada@example.com"))
        #expect(browser.head.status.kind == .redirection)
        #expect(browser.head.headerFields[.location] == "/auth/error?error=account_not_linked")
        #expect(Self.sessionCookie(browser) == nil)
        let api = await handler.handle(Self.request("/auth/gitlab/callback?id=9&email=ada@example.com", browser: false))
        #expect(api.head.status == .forbidden)
        #expect(try JSONValue(parsing: api.body)["error"] == "account_not_linked")
        #expect(try await accounts.store.account(AccountKey(provider: "gitlab", providerAccountID: "9")) == nil)
        #expect(events.all == ["createUser", "signIn"])
        let page = await handler.handle(Self.request("/auth/error?error=account_not_linked"))
        #expect(String(decoding: page.body, as: UTF8.self).contains("sign in the way you did before"))
    }

    /// A store that cannot answer makes the sign-in a 503 with its code, never a 500, and no session.
    @Test func aStoreThatIsDownAnswers503() async throws {
        let (handler, _, _) = try Self.harness(store: DownAccountStore())
        let response = await handler.handle(Self.request("/auth/github/callback?id=1", browser: false))
        #expect(response.head.status == .serviceUnavailable)
        #expect(try JSONValue(parsing: response.body)["error"] == "temporarily_unavailable")
        #expect(Self.sessionCookie(response) == nil)
    }
}

/// An account store whose server is unreachable.
struct DownAccountStore: AccountStore {
    static let down = SessionStoreError.unavailable("test: down")
    func user(id: String) async throws -> AuthUser? { throw Self.down }
    func user(email: String) async throws -> AuthUser? { throw Self.down }
    func account(_ key: AccountKey) async throws -> AuthAccount? { throw Self.down }
    func accounts(userID: String) async throws -> [AuthAccount] { throw Self.down }
    func createUser(_ user: AuthUser, account: AuthAccount?) async throws { throw Self.down }
    func createUser(_ user: AuthUser, authenticator: PasskeyAuthenticator) async throws { throw Self.down }
    func updateUser(_ user: AuthUser) async throws -> Bool { throw Self.down }
    func deleteUser(id: String) async throws -> Bool { throw Self.down }
    func linkAccount(_ account: AuthAccount) async throws -> Bool { throw Self.down }
    func unlinkAccount(_ key: AccountKey, userID: String) async throws -> UnlinkOutcome { throw Self.down }
    func replaceTokens(_ key: AccountKey, expected: [UInt8]?, with tokens: [UInt8]?, needsReauthentication: Bool) async throws -> Bool { throw Self.down }
    func replacePasswordHash(_ key: AccountKey, expected: String?, with hash: String) async throws -> Bool { throw Self.down }
    func totpEnrolment(userID: String) async throws -> TOTPEnrolment? { throw Self.down }
    func saveTOTPEnrolment(_ enrolment: TOTPEnrolment, recoveryCodeHashes: [[UInt8]]) async throws -> Bool { throw Self.down }
    func deleteTOTPEnrolment(userID: String) async throws -> Bool { throw Self.down }
    func useTOTPStep(userID: String, step: Int64) async throws -> Bool { throw Self.down }
    func useRecoveryCode(userID: String, codeHash: [UInt8]) async throws -> Bool { throw Self.down }
    func replaceRecoveryCodes(userID: String, hashes: [[UInt8]]) async throws -> Bool { throw Self.down }
    func recoveryCodeCount(userID: String) async throws -> Int { throw Self.down }
    func createVerificationToken(_ token: VerificationToken) async throws { throw Self.down }
    func useVerificationToken(identifier: String, tokenHash: [UInt8], purpose: String, now: Date) async throws -> VerificationToken? { throw Self.down }
    func createAuthenticator(_ authenticator: PasskeyAuthenticator) async throws -> Bool { throw Self.down }
    func authenticator(credentialID: [UInt8]) async throws -> PasskeyAuthenticator? { throw Self.down }
    func authenticators(userID: String) async throws -> [PasskeyAuthenticator] { throw Self.down }
    func recordAuthenticatorUse(credentialID: [UInt8], expectedCounter: UInt32, counter: UInt32, backedUp: Bool, at date: Date) async throws -> Bool { throw Self.down }
    func flagAuthenticator(credentialID: [UInt8], at date: Date) async throws -> Bool { throw Self.down }
    func renameAuthenticator(credentialID: [UInt8], userID: String, name: String?) async throws -> Bool { throw Self.down }
    func deleteAuthenticator(credentialID: [UInt8], userID: String) async throws -> UnlinkOutcome { throw Self.down }
    func claimTokenRefresh(_ key: AccountKey, until: Date, now: Date) async throws -> AuthAccount? { throw Self.down }
    func releaseTokenRefresh(_ key: AccountKey) async throws { throw Self.down }
    func deleteVerificationTokens(identifier: String) async throws { throw Self.down }
}
