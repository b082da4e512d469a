import Foundation
import Synchronization
import Testing

@testable import Sesame

/// ``PasswordAccounts``: sign-up, sign-in, changes, resets and email verification, with every refusal.
@Suite struct PasswordAccountsTests {
    /// A clock tests move by hand.
    final class Clock: Sendable {
        let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
        var now: Date { time.withLock { $0 } }
    }

    static let cheap = ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)
    let clock = Clock()
    let store = MemoryAccountStore()
    let queue = PasswordHashingQueue(maximumConcurrent: 2)

    func passwords(
        parameters: ScryptParameters = Self.cheap, perAddress: Int = 100, perClient: Int = 100, requiresVerifiedEmail: Bool = true,
        store: (any AccountStore)? = nil
    ) -> PasswordAccounts {
        let clock = clock
        return PasswordAccounts(
            store: store ?? self.store, hasher: ScryptPasswordHasher(parameters: parameters, queue: queue),
            configuration: PasswordAccounts.Configuration(
                requiresVerifiedEmail: requiresVerifiedEmail,
                perAddress: MemoryRateLimiter(capacity: perAddress, refillInterval: 60, now: { clock.now.timeIntervalSince1970 }),
                perClient: MemoryRateLimiter(capacity: perClient, refillInterval: 60, now: { clock.now.timeIntervalSince1970 })),
            now: { clock.now })
    }

    static let password = "correct horse battery staple"

    /// Signs up and verifies by code; returns the user.
    func verifiedUser(_ passwords: PasswordAccounts, email: String = "ada@example.com") async throws -> AuthUser {
        guard case .created(_, let verification) = try await passwords.signUp(email: email, password: Self.password, client: "198.51.100.7") else {
            Issue.record("the address was in use")
            throw AuthError.invalidRequest
        }
        return try await passwords.verifyEmail(email, code: verification.code)
    }

    @Test func signUpMakesAnUnverifiedUserWhoSignsInOnceVerified() async throws {
        let passwords = passwords()
        guard case .created(let user, let verification) = try await passwords.signUp(
            email: " Ada@Example.com ", password: Self.password, name: "Ada", client: "198.51.100.7")
        else { Issue.record("not created"); return }
        #expect(user.email == "ada@example.com" && user.emailVerified == nil && user.name == "Ada")
        let account = try #require(try await store.account(passwords.key(userID: user.id)))
        #expect(account.type == .credentials && account.passwordHash?.hasPrefix("$scrypt$ln=10,r=8,p=1$") == true)
        #expect(account.passwordHash?.contains(Self.password) == false)
        #expect(verification.code.count == 8 && verification.code.allSatisfy(\.isASCIIDigitCharacter))

        // The right password, unverified: refused, and only after the password was checked.
        await #expect(throws: AuthError.emailNotVerified) { try await passwords.signIn(email: "ada@example.com", password: Self.password, client: nil) }
        await #expect(throws: AuthError.invalidCredentials) { try await passwords.signIn(email: "ada@example.com", password: "wrong password!", client: nil) }
        let verified = try await passwords.verifyEmail("ada@example.com", token: verification.token)
        #expect(verified.emailVerified == clock.now.wholeMilliseconds)
        #expect(try await passwords.signIn(email: "ADA@example.com", password: Self.password, client: nil).id == user.id)
        // Unverified sign-in is the app's choice.
        #expect(try await self.passwords(requiresVerifiedEmail: false).signIn(email: "ada@example.com", password: Self.password, client: nil).id == user.id)
    }

    @Test func signInRefusesAlikeAndHashesAlike() async throws {
        let passwords = passwords()
        let user = try await verifiedUser(passwords)
        // A user who signed up with GitHub has no password.
        let oauthUser = AuthUser(email: "bob@example.com", emailVerified: clock.now)
        try await store.createUser(oauthUser, account: AuthAccount(key: AccountKey(provider: "github", providerAccountID: "9"), userID: oauthUser.id, type: .oauth))
        for (email, password) in [("ada@example.com", "not the password"), ("nobody@example.com", Self.password), ("bob@example.com", Self.password)] {
            let before = queue.completed
            await #expect(throws: AuthError.invalidCredentials, "\(email)") { try await passwords.signIn(email: email, password: password, client: nil) }
            #expect(queue.completed == before + 1, "one hash spent for \(email)")
        }
        for (email, password) in [("not an address", Self.password), ("ada@example.com", ""), ("ada@example.com", String(repeating: "x", count: 5000))] {
            await #expect(throws: AuthError.invalidCredentials) { try await passwords.signIn(email: email, password: password, client: nil) }
        }
        #expect(try await passwords.signIn(email: "ada@example.com", password: Self.password, client: nil).id == user.id)
    }

    @Test func signUpForAKnownAddressWritesNothingAndAnswersAlike() async throws {
        let passwords = passwords()
        let user = try await verifiedUser(passwords)
        let hash = try await store.account(passwords.key(userID: user.id))?.passwordHash
        let before = queue.completed
        guard case .addressInUse(let existing) = try await passwords.signUp(email: "ADA@example.com", password: "another long password", client: nil) else {
            Issue.record("a second user was created"); return
        }
        #expect(existing.id == user.id)
        #expect(queue.completed == before + 1, "a known address costs the same hash")
        #expect(try await store.account(passwords.key(userID: user.id))?.passwordHash == hash, "the password is unchanged")
        #expect(try await passwords.signIn(email: "ada@example.com", password: Self.password, client: nil).id == user.id)
    }

    @Test func weakPasswordsAndBadAddressesAreRefusedBeforeAnythingIsWritten() async throws {
        let passwords = passwords()
        for weak in ["short", "password123", "qwertyuiop", String(repeating: "a", count: 129)] {
            await #expect(throws: AuthError.weakPassword, "\(weak)") { try await passwords.signUp(email: "ada@example.com", password: weak, client: nil) }
        }
        await #expect(throws: AuthError.invalidRequest) { try await passwords.signUp(email: "ada@", password: Self.password, client: nil) }
        #expect(try await store.user(email: "ada@example.com") == nil)
    }

    @Test func verificationIsSingleUseBoundToTheAddressAndReplacedByANewOne() async throws {
        let passwords = passwords()
        guard case .created(_, let first) = try await passwords.signUp(email: "ada@example.com", password: Self.password, client: nil) else { return }
        guard case .created(_, let other) = try await passwords.signUp(email: "bob@example.com", password: Self.password, client: nil) else { return }
        // Bob's code and link do not verify Ada.
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", code: other.code) }
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", token: other.token) }
        // A new verification voids the old one.
        let second = try #require(try await passwords.requestVerification(email: "ada@example.com", client: nil))
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", token: first.token) }
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", code: first.code) }
        for malformed in ["1234567", "123456789", "abcdefgh", "١٢٣٤٥٦٧٨"] {
            await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", code: malformed) }
        }
        // The code, typed with a space, works once; the link then is void too.
        let spaced = String(second.code.prefix(4)) + " " + String(second.code.suffix(4))
        #expect(try await passwords.verifyEmail("ada@example.com", code: spaced).emailVerified != nil)
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", code: second.code) }
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("ada@example.com", token: second.token) }
        // A verified address gets no new verification; an unknown one none either (same answer: nil).
        #expect(try await passwords.requestVerification(email: "ada@example.com", client: nil) == nil)
        #expect(try await passwords.requestVerification(email: "nobody@example.com", client: nil) == nil)
        // Bob's, 15 minutes later, has expired.
        clock.advance(15 * 60 + 1)
        await #expect(throws: AuthError.invalidVerification) { try await passwords.verifyEmail("bob@example.com", token: other.token) }
    }

    @Test func codesAndSignInsAreRateLimitedPerAddressAndPerClient() async throws {
        let passwords = passwords(perAddress: 5, perClient: 8)
        let user = try await verifiedUser(passwords)
        for _ in 0..<4 {
            await #expect(throws: AuthError.invalidCredentials) { try await passwords.signIn(email: "ada@example.com", password: "not the password", client: "203.0.113.\(Int.random(in: 1...200))") }
        }
        #expect(try await passwords.signIn(email: "ada@example.com", password: Self.password, client: "198.51.100.1").id == user.id)
        // The sixth attempt in a minute waits, even with the right password and from another client.
        do {
            _ = try await passwords.signIn(email: "Ada+x@example.com", password: Self.password, client: "192.0.2.1")
            Issue.record("not limited")
        } catch let error as AuthError {
            #expect(error == .rateLimited && error.status == .tooManyRequests && error.retryAfter == 60)
        }
        // Another address is not affected; a minute later one more attempt is allowed (no lock-out).
        await #expect(throws: AuthError.invalidCredentials) { try await passwords.signIn(email: "bob@example.com", password: "x", client: "192.0.2.2") }
        clock.advance(60)
        #expect(try await passwords.signIn(email: "ada@example.com", password: Self.password, client: "192.0.2.3").id == user.id)

        // Per client: one client's /64 spread over many addresses.
        let perClient = self.passwords(perAddress: 100, perClient: 3)
        for index in 0..<3 {
            await #expect(throws: AuthError.invalidCredentials) { try await perClient.signIn(email: "u\(index)@example.com", password: "x", client: "2001:db8:5:6::\(index)") }
        }
        await #expect(throws: AuthError.rateLimited) { try await perClient.signIn(email: "u9@example.com", password: "x", client: "2001:db8:5:6:ffff::1") }
        await #expect(throws: AuthError.rateLimited) { try await perClient.signUp(email: "u9@example.com", password: Self.password, client: "2001:db8:5:6::9") }
    }

    @Test func olderParametersAreRehashedUnlessThePasswordChangedMeanwhile() async throws {
        let old = passwords(parameters: ScryptParameters(logN: 8, blockSize: 8, parallelism: 1))
        let user = try await verifiedUser(old)
        let key = old.key(userID: user.id)
        let oldHash = try #require(try await store.account(key)?.passwordHash)
        #expect(oldHash.hasPrefix("$scrypt$ln=8,"))
        let current = passwords()
        _ = try await current.signIn(email: "ada@example.com", password: Self.password, client: nil)
        let newHash = try #require(try await store.account(key)?.passwordHash)
        #expect(newHash.hasPrefix("$scrypt$ln=10,"))
        _ = try await current.signIn(email: "ada@example.com", password: Self.password, client: nil)
        #expect(try await store.account(key)?.passwordHash == newHash, "a current hash is kept")
        // The rehash is a compare-and-swap: it never overwrites another hash.
        #expect(try await !store.replacePasswordHash(key, expected: oldHash, with: "$scrypt$stale"))
    }

    /// A user moved over from a Vapor or Hummingbird app with a bcrypt hash signs in, and the hash becomes scrypt.
    @Test func importedBcryptHashesVerifyAndAreReplaced() async throws {
        let passwords = passwords()
        let user = AuthUser(email: "ada@example.com", emailVerified: clock.now)
        let key = passwords.key(userID: user.id)
        let imported = "$2b$04$He.r42yKePTDCQqx12Cmo.HWSXxJ.Kbfw0fFK970ehkXHa9wUj7jW"  // "password", PyPI bcrypt 4.2.1
        try await store.createUser(user, account: AuthAccount(key: key, userID: user.id, type: .credentials, passwordHash: imported))
        await #expect(throws: AuthError.invalidCredentials) { try await passwords.signIn(email: "ada@example.com", password: "Password", client: nil) }
        #expect(try await store.account(key)?.passwordHash == imported)
        #expect(try await passwords.signIn(email: "ada@example.com", password: "password", client: nil).id == user.id)
        let replaced = try #require(try await store.account(key)?.passwordHash)
        #expect(replaced.hasPrefix("$scrypt$ln=10,"))
        #expect(try await passwords.signIn(email: "ada@example.com", password: "password", client: nil).id == user.id)
        // A bcrypt cost above the cap is refused without being computed.
        let absurd = "$2b$31$He.r42yKePTDCQqx12Cmo.HWSXxJ.Kbfw0fFK970ehkXHa9wUj7jW"
        #expect(try await passwords.hasher.verify("password", against: absurd) == .invalid)
    }

    @Test func changingNeedsTheCurrentPassword() async throws {
        let passwords = passwords()
        let user = try await verifiedUser(passwords)
        await #expect(throws: AuthError.invalidCredentials) { try await passwords.changePassword(userID: user.id, current: "wrong one!", new: "a brand new passphrase") }
        await #expect(throws: AuthError.weakPassword) { try await passwords.changePassword(userID: user.id, current: Self.password, new: "password") }
        try await passwords.changePassword(userID: user.id, current: Self.password, new: "a brand new passphrase")
        await #expect(throws: AuthError.invalidCredentials) { try await passwords.signIn(email: "ada@example.com", password: Self.password, client: nil) }
        #expect(try await passwords.signIn(email: "ada@example.com", password: "a brand new passphrase", client: nil).id == user.id)
        // A user without a password gets one only through setPassword (after a recent sign-in).
        let oauthUser = AuthUser(email: "bob@example.com", emailVerified: clock.now)
        try await store.createUser(oauthUser, account: AuthAccount(key: AccountKey(provider: "github", providerAccountID: "9"), userID: oauthUser.id, type: .oauth))
        await #expect(throws: AuthError.invalidCredentials) { try await passwords.changePassword(userID: oauthUser.id, current: "", new: Self.password) }
        #expect(try await !passwords.hasPassword(userID: oauthUser.id))
        try await passwords.setPassword(userID: oauthUser.id, password: Self.password)
        #expect(try await passwords.hasPassword(userID: oauthUser.id))
        #expect(try await passwords.signIn(email: "bob@example.com", password: Self.password, client: nil).id == oauthUser.id)
        #expect(try await store.accounts(userID: oauthUser.id).count == 2)
        await #expect(throws: AuthError.accessDenied) { try await passwords.setPassword(userID: "gone", password: Self.password) }
    }

    @Test func resetTokensAreHashedSingleUseShortLivedAndReplaced() async throws {
        let passwords = passwords()
        let user = try await verifiedUser(passwords)
        #expect(try await passwords.requestReset(email: "nobody@example.com", client: nil) == nil)
        let first = try #require(try await passwords.requestReset(email: "ada@example.com", client: nil))
        let second = try #require(try await passwords.requestReset(email: "ada@example.com", client: nil))
        #expect(first.token != second.token && passwords.isWellFormedResetLink(userID: user.id, token: second.token))
        // The old link is void; a weak password does not use the new one up; another user's ID does not match it.
        await #expect(throws: AuthError.invalidVerification) { try await passwords.reset(userID: user.id, token: first.token, password: "a new long passphrase", client: nil) }
        await #expect(throws: AuthError.weakPassword) { try await passwords.reset(userID: user.id, token: second.token, password: "12345678", client: nil) }
        await #expect(throws: AuthError.invalidVerification) { try await passwords.reset(userID: "someone-else", token: second.token, password: "a new long passphrase", client: nil) }
        for malformed in ["", "short", second.token + "A", String(second.token.dropLast()) + "!"] {
            await #expect(throws: AuthError.invalidVerification) { try await passwords.reset(userID: user.id, token: malformed, password: "a new long passphrase", client: nil) }
        }
        #expect(try await passwords.reset(userID: user.id, token: second.token, password: "a new long passphrase", client: nil).id == user.id)
        await #expect(throws: AuthError.invalidVerification) { try await passwords.reset(userID: user.id, token: second.token, password: "another long passphrase", client: nil) }
        #expect(try await passwords.signIn(email: "ada@example.com", password: "a new long passphrase", client: nil).id == user.id)
        // An hour and a second later a link has expired.
        let late = try #require(try await passwords.requestReset(email: "ada@example.com", client: nil))
        clock.advance(3601)
        await #expect(throws: AuthError.invalidVerification) { try await passwords.reset(userID: user.id, token: late.token, password: "yet another passphrase", client: nil) }
    }

    @Test func aResetVerifiesTheAddressAndGivesAPasswordToAUserWithout() async throws {
        let passwords = passwords()
        let user = AuthUser(email: "bob@example.com")
        try await store.createUser(user, account: AuthAccount(key: AccountKey(provider: "github", providerAccountID: "9"), userID: user.id, type: .oauth))
        let reset = try #require(try await passwords.requestReset(email: "bob@example.com", client: nil))
        #expect(try await passwords.reset(userID: user.id, token: reset.token, password: Self.password, client: nil).id == user.id)
        #expect(try await store.user(id: user.id)?.emailVerified != nil)
        #expect(try await passwords.signIn(email: "bob@example.com", password: Self.password, client: nil).id == user.id)
    }

    @Test func aStoreThatIsDownIsAClear503() async throws {
        let passwords = passwords(store: DownAccountStore())
        await #expect(throws: AuthError.unavailable) { try await passwords.signIn(email: "ada@example.com", password: Self.password, client: nil) }
        await #expect(throws: AuthError.unavailable) { try await passwords.signUp(email: "ada@example.com", password: Self.password, client: nil) }
        await #expect(throws: AuthError.unavailable) { try await passwords.requestReset(email: "ada@example.com", client: nil) }
    }
}
