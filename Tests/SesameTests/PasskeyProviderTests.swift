import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Sesame

/// ``PasskeyProvider`` over the handler's request path: the pages and the script, passkey-first sign-up, sign-in,
/// passkeys as the second factor after a password, and the CSRF and origin checks on every ceremony's `POST`.
@Suite struct PasskeyProviderTests {
    final class Outbox: Sendable {
        let messages = Mutex<[Passkeys.SignUpMessage]>([])
        func code(to email: String) -> String? {
            messages.withLock { messages in
                for case .code(let to, let code) in messages.reversed() where to == email { return code }
                return nil
            }
        }
    }

    typealias Client = PasswordProviderTests.Client
    typealias AppSession = AccountSignInTests.AppSession
    static let origin = PasswordProviderTests.origin
    let outbox = Outbox()
    let store = MemoryAccountStore()
    let passwords: PasswordAccounts
    let passkeys: Passkeys
    let handler: AuthHandler

    init() throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        passwords = PasswordAccounts(
            store: store, hasher: ScryptPasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1), queue: .forTests),
            configuration: PasswordAccounts.Configuration(requiresVerifiedEmail: false))
        passkeys = Passkeys(store: store, keys: keys, baseURL: Self.origin, replay: MemoryReplayStore(), configuration: PasskeyConfiguration(relyingPartyName: "Sesame Tests"))
        let outbox = outbox
        let sessions = StoredSessions<AppSession, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys))
        handler = AuthHandler(
            providers: [
                "password": PasswordProvider(passwords: passwords, passkeys: passkeys, deliversInBackground: false) { _ in },
                "passkey": PasskeyProvider(passkeys: passkeys, deliversInBackground: false) { message in outbox.messages.withLock { $0.append(message) } },
            ],
            configuration: AuthConfiguration(baseURL: Self.origin), keys: keys,
            accounts: Accounts(store: store, keys: keys), sessions: sessions,
            subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } })
    }

    static func json(_ response: AuthResponse) -> JSONValue { PasswordProviderTests.json(response) }

    /// The user with their address marked proved (as the verification link does).
    func verified(_ user: AuthUser) async throws -> AuthUser {
        var user = user
        user.emailVerified = Date().wholeMilliseconds
        #expect(try await store.updateUser(user))
        return user
    }

    /// Signs up with a passkey through the handler: the address form, the emailed code, the options, the credential.
    func signUp(_ client: inout Client, email: String, authenticator: inout SoftAuthenticator) async throws -> AuthResponse {
        let token = try await client.csrf(handler)
        let requested = await client.send(handler, .post, "/auth/passkey/signup", json: ["csrfToken": .string(token), "email": .string(email)])
        #expect(requested.head.status == .ok)
        let code = try #require(outbox.code(to: email))
        let options = await client.send(handler, .post, "/auth/passkey/signup-options", json: ["csrfToken": .string(token), "email": .string(email), "code": .string(code), "name": "Ada"])
        #expect(options.head.status == .ok && Self.json(options)["action"] == "register")
        let credential = authenticator.create(Self.json(options), origin: Self.origin)
        return await client.send(handler, .post, "/auth/callback/passkey", json: ["csrfToken": .string(token), "action": "register", "data": credential],
                                 fields: ["X-Auth-Return-Redirect": "1"])
    }

    @Test func theSignInPageOffersPasskeysWithItsScriptUnderAStrictPolicy() async throws {
        var browser = Client()
        let page = await browser.send(handler, .get, "/auth/signin", origin: nil)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("data-passkey=\"signin\"") && html.contains("data-options=\"https://app.example/auth/webauthn-options/passkey\""))
        #expect(html.contains("autocomplete=\"username webauthn\"") && html.contains("<script src=\"https://app.example/auth/passkey.js\" defer></script>"))
        #expect(!html.contains("<script>"), "no inline script")
        let policy = try #require(page.head.headerFields[.contentSecurityPolicy])
        #expect(policy.contains("script-src https://app.example/auth/passkey.js;") && policy.contains("connect-src 'self'") && policy.contains("default-src 'none'") && !policy.contains("unsafe-inline'; script"))
        let script = await browser.send(handler, .get, "/auth/passkey.js", origin: nil)
        #expect(script.head.status == .ok && script.head.headerFields[.contentType] == "text/javascript; charset=utf-8")
        #expect(String(decoding: script.body, as: UTF8.self).contains("navigator.credentials.create"))
        // Pages without passkeys keep the policy with no scripts at all.
        let signOut = await browser.send(handler, .get, "/auth/signout", origin: nil)
        #expect(signOut.head.headerFields[.contentSecurityPolicy]?.contains("script-src") == false)
    }

    @Test func passkeyFirstSignUpThenSignOutAndSignInAgain() async throws {
        var client = Client(browser: false)
        var authenticator = SoftAuthenticator()
        let signedUp = try await signUp(&client, email: "ada@example.com", authenticator: &authenticator)
        #expect(signedUp.head.status == .ok && Self.json(signedUp)["url"]?.stringValue != nil)
        #expect(client.cookies["__Host-sesame-sid"] != nil && client.cookies["__Host-sesame-webauthn"] == nil, "signed in; the ceremony cookie cleared")
        let session = try await client.session(handler)
        #expect(session["user"]?["email"] == "ada@example.com" && session["user"]?["name"] == "Ada")
        let user = try #require(try await store.user(email: "ada@example.com"))
        #expect(user.emailVerified != nil)
        #expect(try await store.accounts(userID: user.id).isEmpty, "no password, no account row: the passkey alone")

        // A new browser signs in with the passkey alone (discoverable: no address typed).
        var other = Client(browser: false)
        let token = try await other.csrf(handler)
        let options = await other.send(handler, .get, "/auth/webauthn-options/passkey?action=authenticate&callbackUrl=%2Fdashboard", origin: nil)
        #expect(options.head.status == .ok && Self.json(options)["action"] == "authenticate")
        let assertion = authenticator.get(Self.json(options), origin: Self.origin)
        let signedIn = await other.send(handler, .post, "/auth/callback/passkey", json: ["csrfToken": .string(token), "action": "authenticate", "data": assertion],
                                        fields: ["X-Auth-Return-Redirect": "1"])
        #expect(signedIn.head.status == .ok && Self.json(signedIn)["url"] == "https://app.example/dashboard")
        #expect(try await other.session(handler)["user"]?["email"] == "ada@example.com")
        // The same assertion again: refused, and no second session.
        var replayer = Client(browser: false)
        let replayToken = try await replayer.csrf(handler)
        replayer.cookies["__Host-sesame-webauthn"] = other.cookies["__Host-sesame-webauthn"] ?? client.cookies["__Host-sesame-webauthn"]
        let replayed = await replayer.send(handler, .post, "/auth/callback/passkey", json: ["csrfToken": .string(replayToken), "action": "authenticate", "data": assertion])
        #expect(replayed.head.status.code >= 400 && replayer.cookies["__Host-sesame-sid"] == nil)
    }

    @Test func everyCeremonyPostNeedsTheCSRFTokenAndTheSiteOrigin() async throws {
        var client = Client(browser: false)
        let token = try await client.csrf(handler)
        let noToken = await client.send(handler, .post, "/auth/passkey/signup", json: ["email": "bob@example.com"])
        #expect(noToken.head.status == .forbidden && Self.json(noToken)["error"] == "invalid_csrf_token")
        let crossSite = await client.send(handler, .post, "/auth/callback/passkey", json: ["csrfToken": .string(token), "action": "authenticate", "data": [:]], origin: "https://evil.example")
        #expect(crossSite.head.status == .forbidden && Self.json(crossSite)["error"] == "forbidden_origin")
        let noTokenOptions = await client.send(handler, .post, "/auth/passkey/signup-options", json: ["email": "bob@example.com", "code": "12345678"])
        #expect(noTokenOptions.head.status == .forbidden)
        #expect(outbox.code(to: "bob@example.com") == nil, "nothing was sent")
        // A malformed credential is a 400 with its code, not a 500.
        let options = await client.send(handler, .get, "/auth/webauthn-options/passkey", origin: nil)
        #expect(options.head.status == .ok)
        let malformed = await client.send(handler, .post, "/auth/callback/passkey", json: ["csrfToken": .string(token), "action": "authenticate", "data": "{\"id\":1}"])
        #expect(malformed.head.status == .badRequest && Self.json(malformed)["error"] == "invalid_passkey_response")
        // People get the page's text; the developer's detail stays in `error_description`.
        #expect(Self.json(malformed)["message"] == "The passkey's answer was not valid. Try again.")
        let unknownAction = await client.send(handler, .post, "/auth/callback/passkey", json: ["csrfToken": .string(token), "action": "steal", "data": [:]])
        #expect(unknownAction.head.status == .badRequest)
    }

    @Test func aPasskeyIsTheSecondFactorAfterAPassword() async throws {
        // Ada has a password and a passkey.
        _ = try await passwords.signUp(email: "ada@example.com", password: PasswordProviderTests.password, client: nil)
        var ada = try #require(try await store.user(email: "ada@example.com"))
        // Not before the address is proved: a passkey on an account someone opened with another person's address
        // would outlive that person's password reset.
        await #expect(throws: AuthError.emailNotVerified) { try await passkeys.registrationOptions(for: ada) }
        ada = try await verified(ada)
        var authenticator = SoftAuthenticator()
        let adding = try await passkeys.registrationOptions(for: ada)
        _ = try await passkeys.register(PasskeyCeremonyTests.request(adding, authenticator.create(.object(adding.options), origin: Self.origin)), user: ada)

        var client = Client(browser: false)
        let token = try await client.csrf(handler)
        let needs = await client.send(handler, .post, "/auth/callback/password", json: ["csrfToken": .string(token), "email": "ada@example.com", "password": .string(PasswordProviderTests.password)])
        #expect(Self.json(needs)["twoFactorRequired"] == true && client.cookies["__Host-sesame-sid"] == nil)
        // The two-step page offers the passkey (and, with no authenticator app, no code but a recovery code).
        var browser = client
        browser.browser = true
        let page = String(decoding: await browser.send(handler, .get, "/auth/password/two-factor", origin: nil).body, as: UTF8.self)
        #expect(page.contains("data-passkey=\"second-factor\"") && page.contains("/auth/passkey.js"))
        let options = await client.send(handler, .post, "/auth/password/two-factor-options", json: ["csrfToken": .string(token)])
        #expect(Self.json(options)["options"]?["allowCredentials"]?.arrayValue?.count == 1)
        let assertion = authenticator.get(Self.json(options), origin: Self.origin)
        let done = await client.send(handler, .post, "/auth/password/two-factor", json: ["csrfToken": .string(token), "action": "authenticate", "data": assertion],
                                     fields: ["X-Auth-Return-Redirect": "1"])
        #expect(done.head.status == .ok && client.cookies["__Host-sesame-sid"] != nil)
        #expect(try await client.session(handler)["user"]?["email"] == "ada@example.com")
    }

    @Test func aPasskeySecondFactorOfAnotherUserIsRefused() async throws {
        _ = try await passwords.signUp(email: "ada@example.com", password: PasswordProviderTests.password, client: nil)
        let ada = try await verified(try #require(try await store.user(email: "ada@example.com")))
        var adas = SoftAuthenticator()
        let adding = try await passkeys.registrationOptions(for: ada)
        _ = try await passkeys.register(PasskeyCeremonyTests.request(adding, adas.create(.object(adding.options), origin: Self.origin)), user: ada)
        // Mallory has her own passkey, and Ada's password.
        var mallorys = SoftAuthenticator()
        var mallory = Client(browser: false)
        _ = try await signUp(&mallory, email: "mallory@example.com", authenticator: &mallorys)
        var client = Client(browser: false)
        let token = try await client.csrf(handler)
        _ = await client.send(handler, .post, "/auth/callback/password", json: ["csrfToken": .string(token), "email": "ada@example.com", "password": .string(PasswordProviderTests.password)])
        let options = await client.send(handler, .post, "/auth/password/two-factor-options", json: ["csrfToken": .string(token)])
        let refused = await client.send(handler, .post, "/auth/password/two-factor", json: ["csrfToken": .string(token), "action": "authenticate", "data": mallorys.get(Self.json(options), origin: Self.origin)])
        #expect(refused.head.status == .unauthorized && Self.json(refused)["error"] == "passkey_unknown_credential")
        #expect(client.cookies["__Host-sesame-sid"] == nil)
    }

    /// A passkey sign-in is a full sign-in: a new session (never the cookie the browser came with), even for a
    /// browser that was signed in already.
    @Test func aPasskeySignInMintsANewSession() async throws {
        var client = Client(browser: false)
        var authenticator = SoftAuthenticator()
        _ = try await signUp(&client, email: "ada@example.com", authenticator: &authenticator)
        let before = try #require(client.cookies["__Host-sesame-sid"])
        let token = try await client.csrf(handler)
        let options = await client.send(handler, .get, "/auth/webauthn-options/passkey", origin: nil)
        let signedIn = await client.send(handler, .post, "/auth/callback/passkey",
                                         json: ["csrfToken": .string(token), "action": "authenticate", "data": authenticator.get(Self.json(options), origin: Self.origin)])
        #expect(signedIn.head.status.kind == .redirection)
        let after = try #require(client.cookies["__Host-sesame-sid"])
        #expect(after != before)
        #expect(try await client.session(handler)["user"]?["email"] == "ada@example.com")
        // The session the browser came with is over.
        var old = Client(browser: false)
        old.cookies["__Host-sesame-sid"] = before
        #expect(try await old.session(handler) == .null)
    }

    /// A passkey-first sign-up is written only after the handler's `signIn` callback allowed it, and reports
    /// `createUser`.
    @Test func theSignInCallbackDecidesBeforeAPasskeySignUpIsWritten() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let events = Mutex<[String]>([])
        let outbox = outbox
        let handler = AuthHandler(
            providers: ["passkey": PasskeyProvider(passkeys: passkeys, deliversInBackground: false) { message in outbox.messages.withLock { $0.append(message) } }],
            configuration: AuthConfiguration(baseURL: Self.origin), keys: keys,
            accounts: Accounts(store: store, keys: keys), sessions: StoredSessions<AppSession, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys)),
            subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } },
            callbacks: AuthCallbacks(
                signIn: { success in success.claims["email"]?.stringValue?.hasSuffix("@blocked.example") == true ? .deny : .allow },
                event: { event in events.withLock { $0.append(event.name) } }))
        func signUp(_ email: String) async throws -> (AuthResponse, SoftAuthenticator) {
            var client = Client(browser: false)
            var authenticator = SoftAuthenticator()
            let token = try await client.csrf(handler)
            _ = await client.send(handler, .post, "/auth/passkey/signup", json: ["csrfToken": .string(token), "email": .string(email)])
            let code = try #require(outbox.code(to: email))
            let options = await client.send(handler, .post, "/auth/passkey/signup-options", json: ["csrfToken": .string(token), "email": .string(email), "code": .string(code)])
            let answer = await client.send(handler, .post, "/auth/callback/passkey",
                                           json: ["csrfToken": .string(token), "action": "register", "data": authenticator.create(Self.json(options), origin: Self.origin)])
            return (answer, authenticator)
        }
        let (denied, deniedAuthenticator) = try await signUp("eve@blocked.example")
        #expect(denied.head.status == .forbidden)
        #expect(try await store.user(email: "eve@blocked.example") == nil)
        #expect(try await store.authenticator(credentialID: deniedAuthenticator.credentialID) == nil)
        let (allowed, _) = try await signUp("ada@example.com")
        #expect(allowed.head.status.kind == .redirection)
        #expect(try await store.user(email: "ada@example.com") != nil)
        #expect(events.withLock { $0.contains("createUser") })
    }
}
