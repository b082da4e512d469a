import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Sesame

/// ``SecondFactors`` and the password provider's second-factor step: enrolment confirmed by a code, each code
/// accepted once, recovery codes used once, and no session before the code.
@Suite struct SecondFactorTests {
    let clock = PasswordAccountsTests.Clock()
    let store = MemoryAccountStore()
    let keys: KeySet

    init() throws { keys = try KeySet(activeKey: JWK.generate(.es256)) }

    func factors(keys: KeySet? = nil, perUser: Int = 100) -> SecondFactors {
        let clock = clock
        return SecondFactors(
            store: store, keys: keys ?? self.keys, issuer: "Sesame Tests",
            perUser: MemoryRateLimiter(capacity: perUser, refillInterval: 60, now: { clock.now.timeIntervalSince1970 }), now: { clock.now })
    }

    func user() async throws -> AuthUser {
        let user = AuthUser(email: "ada\(UUID().uuidString.prefix(6))@example.com", emailVerified: clock.now)
        try await store.createUser(user, account: nil)
        return user
    }

    /// Enrols a user; returns the factor (to compute codes) and the recovery codes.
    func enrol(_ factors: SecondFactors, _ user: AuthUser) async throws -> (TOTPFactor, [String]) {
        let pending = try factors.beginEnrolment(userID: user.id, account: user.email!)
        let factor = TOTPFactor(secret: try #require(Base32Text.decode(pending.secretText)))
        let codes = try await factors.confirmEnrolment(userID: user.id, sealedSecret: pending.sealedSecret, code: factor.code(at: clock.now))
        return (factor, codes)
    }

    @Test func enrolmentNeedsACodeForThePendingSecretAndItsOwner() async throws {
        let factors = factors()
        let (ada, bob) = (try await user(), try await user())
        let pending = try factors.beginEnrolment(userID: ada.id, account: ada.email!)
        #expect(pending.uri.hasPrefix("otpauth://totp/Sesame%20Tests:") && pending.uri.contains("secret=\(pending.secretText)"))
        #expect(pending.qrSVG.hasPrefix("<svg") && Base32Text.decode(pending.secretText)?.count == 20)
        let factor = TOTPFactor(secret: Base32Text.decode(pending.secretText)!)
        #expect(try await !factors.isEnrolled(userID: ada.id), "nothing stored before the code")
        await #expect(throws: AuthError.invalidCode) { try await factors.confirmEnrolment(userID: ada.id, sealedSecret: pending.sealedSecret, code: "000000") }
        // Ada's pending secret does not enrol Bob, and a tampered one enrols nobody.
        await #expect(throws: AuthError.invalidCode) {
            try await factors.confirmEnrolment(userID: bob.id, sealedSecret: pending.sealedSecret, code: factor.code(at: clock.now))
        }
        var tampered = Base64URL.decode(pending.sealedSecret)!
        tampered[tampered.count / 2] ^= 1
        await #expect(throws: AuthError.invalidCode) {
            try await factors.confirmEnrolment(userID: ada.id, sealedSecret: Base64URL.encode(tampered), code: factor.code(at: clock.now))
        }
        let codes = try await factors.confirmEnrolment(userID: ada.id, sealedSecret: pending.sealedSecret, code: factor.code(at: clock.now))
        #expect(codes.count == 10 && Set(codes).count == 10)
        #expect(try await factors.isEnrolled(userID: ada.id))
        #expect(try await factors.recoveryCodesLeft(userID: ada.id) == 10)
        // The secret is sealed at rest.
        let stored = try #require(try await store.totpEnrolment(userID: ada.id))
        #expect(!stored.sealedSecret.indices.contains { stored.sealedSecret[$0...].starts(with: factor.secret) })
        // The enrolling code cannot sign in afterwards.
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: ada.id, code: factor.code(at: clock.now)) }
    }

    @Test func eachCodeWorksOnceAndRecoveryCodesAreUsedUp() async throws {
        let factors = factors()
        let user = try await user()
        let (factor, recovery) = try await enrol(factors, user)
        clock.advance(30)
        let code = factor.code(at: clock.now)
        #expect(try await factors.verify(userID: user.id, code: code) == .authenticatorApp)
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: code) }
        // ±1 step: the previous step's code is older than the one used; two steps ahead is refused.
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: factor.code(at: clock.now.addingTimeInterval(-30))) }
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: factor.code(at: clock.now.addingTimeInterval(60))) }
        #expect(try await factors.verify(userID: user.id, code: factor.code(at: clock.now.addingTimeInterval(30))) == .authenticatorApp)

        #expect(try await factors.verify(userID: user.id, code: recovery[2].uppercased().replacingOccurrences(of: "-", with: " ")) == .recoveryCode)
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: recovery[2]) }
        #expect(try await factors.recoveryCodesLeft(userID: user.id) == 9)
        let fresh = try await factors.regenerateRecoveryCodes(userID: user.id)
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: recovery[3]) }
        #expect(try await factors.verify(userID: user.id, code: fresh[3]) == .recoveryCode)
        for typo in ["", "12345", "1234567", "abcdef", fresh[0] + "a"] {
            await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: typo) }
        }
        #expect(try await factors.disable(userID: user.id))
        await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: fresh[4]) }
        await #expect(throws: AuthError.notFound) { try await factors.regenerateRecoveryCodes(userID: user.id) }
    }

    @Test func wrongCodesAreThrottledPerUserAndASecretThatCannotBeOpenedFailsClosed() async throws {
        let factors = factors(perUser: 5)
        let user = try await user()
        let (factor, _) = try await enrol(factors, user)  // the enrolment's own bucket
        clock.advance(30)
        for _ in 0..<5 { await #expect(throws: AuthError.invalidCode) { try await factors.verify(userID: user.id, code: "000000") } }
        await #expect(throws: AuthError.rateLimited) { try await factors.verify(userID: user.id, code: factor.code(at: clock.now)) }
        clock.advance(60)
        #expect(try await factors.verify(userID: user.id, code: factor.code(at: clock.now)) == .authenticatorApp)
        // Keys rotated without the old one: the stored secret cannot be opened, and nothing is accepted.
        let other = self.factors(keys: try KeySet(activeKey: JWK.generate(.es256)))
        clock.advance(30)
        await #expect(throws: AuthError.unavailable) { try await other.verify(userID: user.id, code: factor.code(at: clock.now)) }
    }

    // MARK: Over the handler

    struct Harness {
        let handler: AuthHandler
        let passwords: PasswordAccounts
        let factors: SecondFactors
    }

    func harness(perClient: Int = 100) throws -> Harness {
        let passwords = PasswordAccounts(
            store: store, hasher: ScryptPasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1), queue: .forTests),
            configuration: PasswordAccounts.Configuration(requiresVerifiedEmail: false, perClient: MemoryRateLimiter(capacity: perClient, refillInterval: 60)))
        let factors = factors()
        let provider = PasswordProvider(passwords: passwords, secondFactors: factors, deliversInBackground: false) { _ in }
        let sessions = StoredSessions<PasswordProviderTests.AppSession, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys))
        let handler = AuthHandler(
            providers: ["password": provider], configuration: AuthConfiguration(baseURL: PasswordProviderTests.origin), keys: keys,
            accounts: Accounts(store: store, keys: keys), sessions: sessions,
            subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } })
        return Harness(handler: handler, passwords: passwords, factors: factors)
    }

    @Test func aPasswordAloneGetsNoSessionWhenAFactorIsEnrolled() async throws {
        let harness = try harness()
        let handler = harness.handler
        guard case .created(let user, _) = try await harness.passwords.signUp(email: "grace@example.com", password: PasswordAccountsTests.password, client: nil) else { return }
        let (factor, recovery) = try await enrol(harness.factors, user)
        clock.advance(30)

        var browser = PasswordProviderTests.Client()
        let token = try await browser.csrf(handler)
        #expect(await browser.send(handler, .get, "/auth/password/two-factor", origin: nil).head.headerFields[.location] == "https://app.example/auth/signin?error=challenge_expired")
        let first = await browser.send(
            handler, .post, "/auth/callback/password", form: [("csrfToken", token), ("email", "grace@example.com"), ("password", PasswordAccountsTests.password), ("callbackUrl", "/after")])
        #expect(first.head.headerFields[.location] == "https://app.example/auth/password/two-factor")
        #expect(browser.cookies["__Host-sesame-sid"] == nil && browser.cookies["__Host-sesame-2fa"] != nil)
        #expect(try await browser.session(handler) == .null, "no session before the code")
        let page = await browser.send(handler, .get, "/auth/password/two-factor", origin: nil)
        #expect(page.head.status == .ok && String(decoding: page.body, as: UTF8.self).contains("autocomplete=\"one-time-code\""))

        let wrong = await browser.send(handler, .post, "/auth/password/two-factor", form: [("csrfToken", token), ("code", "000000")])
        #expect(wrong.head.headerFields[.location] == "https://app.example/auth/password/two-factor?error=invalid_code")
        let noToken = await browser.send(handler, .post, "/auth/password/two-factor", form: [("code", factor.code(at: clock.now))])
        #expect(noToken.head.headerFields[.location]?.hasSuffix("/auth/error?error=invalid_csrf_token") == true, "CSRF")
        let challenge = try #require(browser.cookies["__Host-sesame-2fa"])
        let done = await browser.send(handler, .post, "/auth/password/two-factor", form: [("csrfToken", token), ("code", factor.code(at: clock.now))])
        #expect(done.head.headerFields[.location] == "/after")
        #expect(browser.cookies["__Host-sesame-2fa"] == nil && browser.cookies["__Host-sesame-sid"] != nil, "the challenge is cleared, a session issued")
        #expect(try await browser.session(handler)["user"]?["email"] == "grace@example.com")

        // The same challenge, replayed with the next valid code, mints nothing.
        var thief = PasswordProviderTests.Client()
        let thiefToken = try await thief.csrf(handler)
        thief.cookies["__Host-sesame-2fa"] = challenge
        let replay = await thief.send(handler, .post, "/auth/password/two-factor", form: [("csrfToken", thiefToken), ("code", recovery[0])])
        #expect(replay.head.headerFields[.location] == "https://app.example/auth/signin?error=challenge_expired")
        #expect(thief.cookies["__Host-sesame-sid"] == nil)
        // A forged or tampered challenge is no challenge.
        for forged in ["x", String(challenge.dropLast(2)) + "AA", String(repeating: "A", count: 5000)] {
            thief.cookies["__Host-sesame-2fa"] = forged
            let refused = await thief.send(handler, .post, "/auth/password/two-factor", form: [("csrfToken", thiefToken), ("code", recovery[1])])
            #expect(refused.head.headerFields[.location] == "https://app.example/auth/signin?error=challenge_expired")
        }
        #expect(try await harness.factors.recoveryCodesLeft(userID: user.id) == 10, "no recovery code was spent by the refused attempts")

        // An API client: JSON says a code is needed; a recovery code completes the sign-in.
        var api = PasswordProviderTests.Client(browser: false)
        let apiToken = try await api.csrf(handler)
        let needs = await api.send(handler, .post, "/auth/callback/password", json: ["csrfToken": .string(apiToken), "email": "grace@example.com", "password": .string(PasswordAccountsTests.password)])
        #expect(PasswordProviderTests.json(needs)["twoFactorRequired"] == true && api.cookies["__Host-sesame-sid"] == nil)
        let viaRecovery = await api.send(handler, .post, "/auth/password/two-factor", json: ["csrfToken": .string(apiToken), "code": .string(recovery[5])])
        #expect(viaRecovery.head.status.kind == .redirection && api.cookies["__Host-sesame-sid"] != nil)
        #expect(try await harness.factors.recoveryCodesLeft(userID: user.id) == 9)
    }

    /// Second-factor codes count against the client's limit as well as the user's.
    @Test func codesCountAgainstTheClientsLimit() async throws {
        let harness = try harness(perClient: 3)
        guard case .created(let user, _) = try await harness.passwords.signUp(email: "lin@example.com", password: PasswordAccountsTests.password, client: nil) else { return }
        _ = try await enrol(harness.factors, user)
        var api = PasswordProviderTests.Client(browser: false)
        let token = try await api.csrf(harness.handler)
        let first = await api.send(harness.handler, .post, "/auth/callback/password", json: ["csrfToken": .string(token), "email": "lin@example.com", "password": .string(PasswordAccountsTests.password)])
        #expect(PasswordProviderTests.json(first)["twoFactorRequired"] == true)
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(await api.send(harness.handler, .post, "/auth/password/two-factor", json: ["csrfToken": .string(token), "code": "000000"]).head.status.code)
        }
        #expect(statuses == [401, 401, 429])
    }
}
