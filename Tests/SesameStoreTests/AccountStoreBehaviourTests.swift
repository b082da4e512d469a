import Foundation
import Sesame
import PostgresNIO
import SesamePostgres
import SesameSQLite
import Testing

/// The account stores that exist: in memory, SQLite (the embedded default) and PostgreSQL.
enum AccountStoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgres

    var testDescription: String { rawValue }
}

/// The same behaviour from every account store, against the real SQLite file and PostgreSQL server.
@Suite(.timeLimit(.minutes(3))) struct AccountStoreBehaviourTests {
    /// Whole milliseconds, which every store keeps exactly.
    static func time(_ offset: TimeInterval = 0) -> Date {
        Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + offset) * 1000).rounded() / 1000)
    }

    static func user(_ email: String? = nil, verified: Bool = true) -> AuthUser {
        let now = time()
        return AuthUser(email: email, emailVerified: verified && email != nil ? now : nil, name: "Ada", image: "https://img.example/a.png", now: now)
    }

    static func account(_ user: AuthUser, provider: String = "github", id: String = UUID().uuidString, issuer: String = "") -> AuthAccount {
        AuthAccount(key: AccountKey(provider: provider, issuer: issuer, providerAccountID: id), userID: user.id, type: issuer.isEmpty ? .oauth : .oidc,
                    sealedTokens: [1, 2, 3], createdAt: time())
    }

    static func email() -> String { "u\(UUID().uuidString.prefix(8).lowercased())@example.com" }

    @Test(arguments: AccountStoreKind.allCases)
    func aUserAndItsFirstAccountRoundTrip(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            var user = Self.user(Self.email())
            struct Payload: Codable, Equatable { var plan: String; var seats: Int }
            try user.setPayload(Payload(plan: "pro", seats: 3))
            let account = Self.account(user, provider: "keycloak", id: "sub-1", issuer: "https://idp.example/realms/a")
            try await store.createUser(user, account: account)
            let stored = try #require(try await store.user(id: user.id))
            #expect(stored == user)
            #expect(try stored.payload(as: Payload.self) == Payload(plan: "pro", seats: 3))
            #expect(try await store.user(email: user.email!) == user)
            #expect(try await store.account(account.key) == account)
            #expect(try await store.accounts(userID: user.id) == [account])
            let both = try #require(try await store.accountAndUser(account.key))
            #expect(both.account == account && both.user == user)
            // A returning sign-in writes its tokens and reads the account back with its user.
            let recorded = try #require(try await store.recordSignIn(account.key, tokens: [7, 7]))
            #expect(recorded.account.sealedTokens == [7, 7] && recorded.user == user)
            #expect(try await store.account(account.key)?.sealedTokens == [7, 7])
            #expect(try await store.recordSignIn(AccountKey(provider: "keycloak", providerAccountID: "none"), tokens: [1]) == nil)
            #expect(try await store.accountAndUser(AccountKey(provider: "keycloak", providerAccountID: "sub-1")) == nil)
            // The issuer is part of the key: the same subject at another issuer is another account.
            #expect(try await store.account(AccountKey(provider: "keycloak", issuer: "https://idp.example/realms/b", providerAccountID: "sub-1")) == nil)
            #expect(try await store.user(id: "missing") == nil)
            #expect(try await store.user(email: "nobody@example.com") == nil)
        }
    }

    /// A user and its account are written together or not at all: a conflict on either leaves nothing behind.
    @Test(arguments: AccountStoreKind.allCases)
    func aConflictWritesNeitherUserNorAccount(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let email = Self.email()
            let first = Self.user(email)
            let firstAccount = Self.account(first)
            try await store.createUser(first, account: firstAccount)

            let sameEmail = Self.user(email)
            let freshAccount = Self.account(sameEmail)
            await #expect(throws: AccountStoreError.emailInUse) { try await store.createUser(sameEmail, account: freshAccount) }
            #expect(try await store.user(id: sameEmail.id) == nil)
            #expect(try await store.account(freshAccount.key) == nil, "no account without its user")

            let other = Self.user(Self.email())
            let taken = AuthAccount(key: firstAccount.key, userID: other.id, type: .oauth)
            await #expect(throws: AccountStoreError.accountInUse) { try await store.createUser(other, account: taken) }
            #expect(try await store.user(id: other.id) == nil, "no user without its account")
            #expect(try await store.account(firstAccount.key)?.userID == first.id)

            var sameID = first
            sameID.setEmail(Self.email())
            await #expect(throws: AccountStoreError.userInUse) { try await store.createUser(sameID, account: nil) }
        }
    }

    @Test(arguments: AccountStoreKind.allCases)
    func updatesKeepEmailsUnique(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let (a, b) = (Self.user(Self.email()), Self.user(Self.email()))
            try await store.createUser(a, account: nil)
            try await store.createUser(b, account: nil)
            var changed = b
            changed.setEmail(a.email)
            await #expect(throws: AccountStoreError.emailInUse) { try await store.updateUser(changed) }
            #expect(try await store.user(id: b.id) == b)
            let newAddress = Self.email()
            changed.setEmail(newAddress)
            changed.name = nil
            changed.updatedAt = Self.time(1)
            #expect(try await store.updateUser(changed))
            #expect(try await store.user(id: b.id) == changed)
            #expect(try await store.user(email: b.email!) == nil, "the old address is free")
            #expect(try await store.user(email: newAddress)?.id == b.id)
            #expect(try await !store.updateUser(Self.user()), "no such user")
        }
    }

    @Test(arguments: AccountStoreKind.allCases)
    func linkingAndUnlinking(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user(Self.email())
            let first = Self.account(user)
            try await store.createUser(user, account: first)
            #expect(try await store.unlinkAccount(first.key, userID: user.id) == .lastSignInMethod)

            let second = Self.account(user, provider: "gitlab")
            #expect(try await store.linkAccount(second))
            await #expect(throws: AccountStoreError.accountInUse) { try await store.linkAccount(second) }
            #expect(try await !store.linkAccount(Self.account(Self.user())), "no account for a user that does not exist")
            #expect(Set(try await store.accounts(userID: user.id).map(\.key)) == [first.key, second.key])

            let stranger = Self.user()
            try await store.createUser(stranger, account: nil)
            #expect(try await store.unlinkAccount(first.key, userID: stranger.id) == .notFound, "only the owner unlinks")
            #expect(try await store.unlinkAccount(first.key, userID: user.id) == .unlinked)
            #expect(try await store.unlinkAccount(second.key, userID: user.id) == .lastSignInMethod)
            // A passkey is a way to sign in too.
            #expect(try await store.createAuthenticator(PasskeyAuthenticator(credentialID: [9, 9], userID: user.id, publicKey: [1])))
            #expect(try await store.unlinkAccount(second.key, userID: user.id) == .unlinked)
            #expect(try await store.accounts(userID: user.id).isEmpty)
        }
    }

    /// Two racing unlinks of a user's last two accounts: one succeeds, the other finds it is the last.
    @Test(arguments: AccountStoreKind.allCases)
    func racingUnlinksKeepOneWayIn(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            for _ in 0..<5 {
                let user = Self.user()
                let (a, b) = (Self.account(user), Self.account(user, provider: "gitlab"))
                try await store.createUser(user, account: a)
                #expect(try await store.linkAccount(b))
                async let first = store.unlinkAccount(a.key, userID: user.id)
                async let second = store.unlinkAccount(b.key, userID: user.id)
                let outcomes = try await [first, second]
                #expect(outcomes.filter { $0 == .unlinked }.count == 1)
                #expect(try await store.accounts(userID: user.id).count == 1)
            }
        }
    }

    @Test(arguments: AccountStoreKind.allCases)
    func tokensAreReplacedOnlyIfUnchanged(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            let account = Self.account(user)
            try await store.createUser(user, account: account)
            #expect(try await !store.replaceTokens(account.key, expected: [7], with: [4], needsReauthentication: false))
            #expect(try await store.replaceTokens(account.key, expected: [1, 2, 3], with: [4, 5], needsReauthentication: false))
            #expect(try await !store.replaceTokens(account.key, expected: [1, 2, 3], with: [6], needsReauthentication: false), "the second writer loses")
            #expect(try await store.replaceTokens(account.key, expected: [4, 5], with: nil, needsReauthentication: true))
            let stored = try #require(try await store.account(account.key))
            #expect(stored.sealedTokens == nil && stored.needsReauthentication)
            #expect(try await store.replaceTokens(account.key, expected: nil, with: [8], needsReauthentication: false))
            #expect(try await !store.replaceTokens(AccountKey(provider: "x", providerAccountID: "y"), expected: nil, with: [1], needsReauthentication: false))
        }
    }

    /// A password account's hash round-trips, sits beside (never in) the sealed tokens, and is replaced only while
    /// unchanged: a rehash racing a password change loses.
    @Test(arguments: AccountStoreKind.allCases)
    func passwordHashesAreReplacedOnlyIfUnchanged(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            let key = AccountKey(provider: "password", providerAccountID: user.id)
            let account = AuthAccount(key: key, userID: user.id, type: .credentials, passwordHash: "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA", createdAt: Self.time())
            try await store.createUser(user, account: account)
            let stored = try #require(try await store.account(key))
            #expect(stored == account && stored.sealedTokens == nil)
            #expect(try await store.accountAndUser(key)?.account.passwordHash == account.passwordHash)
            #expect(try await !store.replacePasswordHash(key, expected: "$scrypt$other", with: "$scrypt$new"))
            #expect(try await store.replacePasswordHash(key, expected: account.passwordHash, with: "$scrypt$new"))
            #expect(try await !store.replacePasswordHash(key, expected: account.passwordHash, with: "$scrypt$late"), "the second writer loses")
            #expect(try await store.accounts(userID: user.id).map(\.passwordHash) == ["$scrypt$new"])
            #expect(try await !store.replacePasswordHash(AccountKey(provider: "password", providerAccountID: "nobody"), expected: nil, with: "x"))
            // An OAuth account has no hash: a CAS from nil gives it none unless asked, and its tokens are untouched.
            let oauth = Self.account(user)
            #expect(try await store.linkAccount(oauth))
            #expect(try await store.account(oauth.key)?.passwordHash == nil)
        }
    }

    /// An authenticator-app enrolment: each step accepted once (of racing requests, one wins), recovery codes used
    /// once and replaced as a set, everything gone with the enrolment or the user.
    @Test(arguments: AccountStoreKind.allCases)
    func secondFactorsAreUsedOnce(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            try await store.createUser(user, account: Self.account(user))
            #expect(try await store.totpEnrolment(userID: user.id) == nil)
            #expect(try await !store.useTOTPStep(userID: user.id, step: 1), "no enrolment, no step")
            let codes = (0..<10).map { [UInt8]("code-\($0)".utf8) }
            let enrolment = TOTPEnrolment(userID: user.id, sealedSecret: [1, 2, 3], lastUsedStep: 100, createdAt: Self.time())
            #expect(try await store.saveTOTPEnrolment(enrolment, recoveryCodeHashes: codes))
            #expect(try await !store.saveTOTPEnrolment(TOTPEnrolment(userID: "nobody", sealedSecret: [1]), recoveryCodeHashes: codes))
            #expect(try await store.totpEnrolment(userID: user.id) == enrolment)
            #expect(try await store.recoveryCodeCount(userID: user.id) == 10)

            #expect(try await !store.useTOTPStep(userID: user.id, step: 100), "the enrolling code's step")
            #expect(try await !store.useTOTPStep(userID: user.id, step: 99))
            let winners = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await store.useTOTPStep(userID: user.id, step: 101) ? 1 : 0 } }
                return try await group.reduce(0, +)
            }
            #expect(winners == 1)
            #expect(try await store.totpEnrolment(userID: user.id)?.lastUsedStep == 101)

            let racers = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await store.useRecoveryCode(userID: user.id, codeHash: codes[3]) ? 1 : 0 } }
                return try await group.reduce(0, +)
            }
            #expect(racers == 1)
            #expect(try await !store.useRecoveryCode(userID: user.id, codeHash: [9, 9]))
            #expect(try await store.recoveryCodeCount(userID: user.id) == 9)
            let fresh = (0..<10).map { [UInt8]("fresh-\($0)".utf8) }
            #expect(try await store.replaceRecoveryCodes(userID: user.id, hashes: fresh))
            #expect(try await !store.useRecoveryCode(userID: user.id, codeHash: codes[4]), "the old set is void")
            #expect(try await store.useRecoveryCode(userID: user.id, codeHash: fresh[4]))
            #expect(try await !store.replaceRecoveryCodes(userID: "nobody", hashes: fresh))

            // Enrolling again replaces the secret, the step and the codes.
            #expect(try await store.saveTOTPEnrolment(TOTPEnrolment(userID: user.id, sealedSecret: [4], createdAt: Self.time()), recoveryCodeHashes: codes))
            #expect(try await store.totpEnrolment(userID: user.id)?.lastUsedStep == nil)
            #expect(try await store.recoveryCodeCount(userID: user.id) == 10)
            #expect(try await store.deleteTOTPEnrolment(userID: user.id))
            #expect(try await !store.deleteTOTPEnrolment(userID: user.id))
            #expect(try await store.recoveryCodeCount(userID: user.id) == 0)

            // Deleting the user deletes its enrolment.
            #expect(try await store.saveTOTPEnrolment(enrolment, recoveryCodeHashes: codes))
            #expect(try await store.deleteUser(id: user.id))
            #expect(try await store.totpEnrolment(userID: user.id) == nil)
            #expect(try await store.recoveryCodeCount(userID: user.id) == 0)
        }
    }

    /// The refresh lease: one holder at a time until it expires; replacing the tokens or releasing ends it.
    @Test(arguments: AccountStoreKind.allCases)
    func refreshLeasesHaveOneHolder(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            let account = Self.account(user)
            try await store.createUser(user, account: account)
            let now = Self.time()
            #expect(try await store.claimTokenRefresh(account.key, until: now.addingTimeInterval(30), now: now) == account)
            #expect(try await store.claimTokenRefresh(account.key, until: now.addingTimeInterval(30), now: now.addingTimeInterval(10)) == nil, "held")
            #expect(try await store.claimTokenRefresh(account.key, until: now.addingTimeInterval(90), now: now.addingTimeInterval(31)) != nil, "expired: taken over")
            try await store.releaseTokenRefresh(account.key)
            #expect(try await store.claimTokenRefresh(account.key, until: now.addingTimeInterval(30), now: now) != nil, "released")
            #expect(try await store.replaceTokens(account.key, expected: account.sealedTokens, with: [9], needsReauthentication: false))
            #expect(try await store.claimTokenRefresh(account.key, until: now.addingTimeInterval(30), now: now)?.sealedTokens == [9], "replacing ended it")
            #expect(try await store.claimTokenRefresh(AccountKey(provider: "x", providerAccountID: "y"), until: now, now: now) == nil)
            // Of ten racing claims, one wins.
            try await store.releaseTokenRefresh(account.key)
            let winners = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await store.claimTokenRefresh(account.key, until: now.addingTimeInterval(30), now: now) == nil ? 0 : 1 }
                }
                return try await group.reduce(0, +)
            }
            #expect(winners == 1)
        }
    }

    @Test(arguments: AccountStoreKind.allCases)
    func verificationTokensAreUsedOnce(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let identifier = Self.email()
            let (token, record) = VerificationToken.make(identifier: identifier, purpose: "signin", lifetime: 600, now: Self.time())
            try await store.createVerificationToken(record)
            let hash = VerificationToken.hash(token)
            #expect(try await store.useVerificationToken(identifier: identifier, tokenHash: hash, purpose: "email-change", now: Date()) == nil, "another purpose")
            #expect(try await store.useVerificationToken(identifier: Self.email(), tokenHash: hash, purpose: "signin", now: Date()) == nil, "another address")
            #expect(try await store.useVerificationToken(identifier: identifier, tokenHash: VerificationToken.hash(token + "x"), purpose: "signin", now: Date()) == nil)
            #expect(try await store.useVerificationToken(identifier: identifier, tokenHash: hash, purpose: "signin", now: Date()) == record)
            #expect(try await store.useVerificationToken(identifier: identifier, tokenHash: hash, purpose: "signin", now: Date()) == nil, "used once")

            let (late, expired) = VerificationToken.make(identifier: identifier, purpose: "signin", lifetime: 60, now: Self.time(-120))
            try await store.createVerificationToken(expired)
            #expect(try await store.useVerificationToken(identifier: identifier, tokenHash: VerificationToken.hash(late), purpose: "signin", now: Date()) == nil)

            // Deleting an identifier's tokens: none of them works afterwards; another identifier's stay.
            let (gone, goneRecord) = VerificationToken.make(identifier: identifier, purpose: "signin", lifetime: 600)
            let (kept, keptRecord) = VerificationToken.make(identifier: identifier + ".other", purpose: "signin", lifetime: 600)
            try await store.createVerificationToken(goneRecord)
            try await store.createVerificationToken(keptRecord)
            try await store.deleteVerificationTokens(identifier: identifier)
            #expect(try await store.useVerificationToken(identifier: identifier, tokenHash: VerificationToken.hash(gone), purpose: "signin", now: Date()) == nil)
            #expect(try await store.useVerificationToken(identifier: identifier + ".other", tokenHash: VerificationToken.hash(kept), purpose: "signin", now: Date()) != nil)

            // Ten at once: exactly one gets it.
            let (raced, racedRecord) = VerificationToken.make(identifier: identifier, purpose: "signin", lifetime: 600)
            try await store.createVerificationToken(racedRecord)
            let winners = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await store.useVerificationToken(identifier: identifier, tokenHash: VerificationToken.hash(raced), purpose: "signin", now: Date()) == nil ? 0 : 1 }
                }
                return try await group.reduce(0, +)
            }
            #expect(winners == 1)
        }
    }

    @Test(arguments: AccountStoreKind.allCases)
    func passkeysAreStoredPerUser(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            try await store.createUser(user, account: nil)
            let passkey = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [0xA5, 1, 2], counter: 5,
                                               backedUp: true, deviceType: "multiDevice", transports: ["internal", "hybrid"], name: "Laptop", createdAt: Self.time())
            #expect(try await store.createAuthenticator(passkey))
            await #expect(throws: AccountStoreError.authenticatorInUse) { try await store.createAuthenticator(passkey) }
            #expect(try await !store.createAuthenticator(PasskeyAuthenticator(credentialID: [1], userID: "missing", publicKey: [1])))
            #expect(try await store.authenticator(credentialID: passkey.credentialID) == passkey)
            #expect(try await store.authenticators(userID: user.id) == [passkey])
            #expect(passkey.lastUsedAt == nil && passkey.flaggedAt == nil)
            let usedAt = Self.time(1)
            #expect(try await store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 5, counter: 9, backedUp: false, at: usedAt))
            let updated = try #require(try await store.authenticator(credentialID: passkey.credentialID))
            #expect(updated.counter == 9 && !updated.backedUp && updated.lastUsedAt == usedAt)
            #expect(try await !store.recordAuthenticatorUse(credentialID: [0], expectedCounter: 0, counter: 1, backedUp: false, at: usedAt))
            #expect(try await store.authenticator(credentialID: [0]) == nil)
        }
    }

    /// A passkey-first sign-up writes the user and the passkey together, or neither.
    @Test(arguments: AccountStoreKind.allCases)
    func aUserAndTheirFirstPasskeyAreCreatedTogether(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user(Self.email())
            let passkey = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [0xA5, 1], createdAt: Self.time())
            try await store.createUser(user, authenticator: passkey)
            #expect(try await store.user(id: user.id) == user)
            #expect(try await store.authenticators(userID: user.id) == [passkey])
            // The same address, or the same credential: nothing of the second sign-up is written.
            let sameAddress = AuthUser(email: user.email, emailVerified: Self.time())
            await #expect(throws: AccountStoreError.emailInUse) {
                try await store.createUser(sameAddress, authenticator: PasskeyAuthenticator(credentialID: [7, 7, 7], userID: sameAddress.id, publicKey: [1]))
            }
            #expect(try await store.user(id: sameAddress.id) == nil)
            #expect(try await store.authenticator(credentialID: [7, 7, 7]) == nil)
            let other = Self.user(Self.email())
            await #expect(throws: AccountStoreError.authenticatorInUse) {
                try await store.createUser(other, authenticator: PasskeyAuthenticator(credentialID: passkey.credentialID, userID: other.id, publicKey: [2]))
            }
            #expect(try await store.user(id: other.id) == nil)
            #expect(try await store.user(email: other.email!) == nil)
            #expect(try await store.authenticator(credentialID: passkey.credentialID)?.userID == user.id)
        }
    }

    /// A flagged passkey signs nobody in: it never counts as a way in, and it can always be removed.
    @Test(arguments: AccountStoreKind.allCases)
    func aFlaggedPasskeyIsNotAWayIn(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user(Self.email())
            let account = Self.account(user)
            try await store.createUser(user, account: account)
            let flagged = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], createdAt: Self.time())
            #expect(try await store.createAuthenticator(flagged))
            #expect(try await store.flagAuthenticator(credentialID: flagged.credentialID, at: Self.time()))
            #expect(try await store.unlinkAccount(account.key, userID: user.id) == .lastSignInMethod)
            #expect(try await store.deleteAuthenticator(credentialID: flagged.credentialID, userID: user.id) == .unlinked)
            #expect(try await store.authenticators(userID: user.id).isEmpty)
            #expect(try await store.accounts(userID: user.id).count == 1)
        }
    }

    /// When a passkey last signed in and when it was flagged are kept, at whole milliseconds, and read back.
    @Test(arguments: AccountStoreKind.allCases)
    func aPasskeysSignInTimesRoundTrip(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            try await store.createUser(user, account: nil)
            let passkey = PasskeyAuthenticator(
                credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], counter: 3, name: "Phone", createdAt: Self.time(-60),
                lastUsedAt: Date(timeIntervalSince1970: 1_700_000_000.1234), flaggedAt: Date(timeIntervalSince1970: 1_700_000_100.9876))
            #expect(passkey.lastUsedAt == Date(timeIntervalSince1970: 1_700_000_000.123))
            #expect(passkey.flaggedAt == Date(timeIntervalSince1970: 1_700_000_100.988))
            #expect(try await store.createAuthenticator(passkey))
            #expect(try await store.authenticator(credentialID: passkey.credentialID) == passkey)
            #expect(try await store.authenticators(userID: user.id) == [passkey])
            let fresh = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [2], createdAt: Self.time())
            #expect(try await store.createAuthenticator(fresh))
            let stored = try #require(try await store.authenticator(credentialID: fresh.credentialID))
            #expect(stored == fresh && stored.lastUsedAt == nil && stored.flaggedAt == nil)
        }
    }

    /// A passkey sign-in is recorded only while the counter is the one the sign-in read and the passkey is not
    /// flagged: of eight sign-ins that read the same counter, one wins.
    @Test(arguments: AccountStoreKind.allCases)
    func recordingAPasskeyUseIsACompareAndSwap(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            try await store.createUser(user, account: nil)
            let passkey = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], counter: 10, createdAt: Self.time())
            #expect(try await store.createAuthenticator(passkey))

            #expect(try await !store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 9, counter: 11, backedUp: true, at: Self.time()))
            #expect(try await store.authenticator(credentialID: passkey.credentialID) == passkey, "a wrong expected counter changes nothing")

            let first = Self.time(1)
            #expect(try await store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 10, counter: 11, backedUp: true, at: first))
            #expect(try await !store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 10, counter: 12, backedUp: false, at: Self.time(2)),
                    "the counter moved on")
            var stored = try #require(try await store.authenticator(credentialID: passkey.credentialID))
            #expect(stored.counter == 11 && stored.backedUp && stored.lastUsedAt == first)

            // Eight sign-ins that read counter 11, each with its own new counter: one is recorded.
            let racedAt = Self.time(3)
            let winners = try await withThrowingTaskGroup(of: UInt32?.self) { group in
                for new in UInt32(20)..<28 {
                    group.addTask {
                        try await store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: 11, counter: new, backedUp: true, at: racedAt)
                            ? new : nil
                    }
                }
                return try await group.compactMap { $0 }.reduce(into: [UInt32]()) { $0.append($1) }
            }
            #expect(winners.count == 1)
            stored = try #require(try await store.authenticator(credentialID: passkey.credentialID))
            #expect(stored.counter == winners.first && stored.lastUsedAt == racedAt)

            // A flagged passkey records no sign-in, whatever the counter.
            #expect(try await store.flagAuthenticator(credentialID: passkey.credentialID, at: Self.time(4)))
            let flagged = try #require(try await store.authenticator(credentialID: passkey.credentialID))
            #expect(try await !store.recordAuthenticatorUse(credentialID: passkey.credentialID, expectedCounter: stored.counter, counter: 99, backedUp: false, at: Self.time(5)))
            #expect(try await store.authenticator(credentialID: passkey.credentialID) == flagged)
        }
    }

    /// Flagging keeps the first time a counter went backwards; a passkey that does not exist cannot be flagged.
    @Test(arguments: AccountStoreKind.allCases)
    func flaggingAPasskeyKeepsTheFirstTime(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user()
            try await store.createUser(user, account: nil)
            let passkey = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], counter: 4, createdAt: Self.time())
            #expect(try await store.createAuthenticator(passkey))
            let first = Self.time(1)
            #expect(try await store.flagAuthenticator(credentialID: passkey.credentialID, at: first))
            #expect(try await store.flagAuthenticator(credentialID: passkey.credentialID, at: Self.time(2)))
            let stored = try #require(try await store.authenticator(credentialID: passkey.credentialID))
            #expect(stored.flaggedAt == first)
            #expect(stored.counter == 4 && stored.lastUsedAt == nil, "flagging changes nothing else")
            #expect(try await !store.flagAuthenticator(credentialID: [0, 0], at: first))
        }
    }

    /// Only the owner renames a passkey.
    @Test(arguments: AccountStoreKind.allCases)
    func onlyTheOwnerRenamesAPasskey(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let (owner, stranger) = (Self.user(), Self.user())
            try await store.createUser(owner, account: nil)
            try await store.createUser(stranger, account: nil)
            let passkey = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: owner.id, publicKey: [1], name: "Laptop", createdAt: Self.time())
            #expect(try await store.createAuthenticator(passkey))
            #expect(try await !store.renameAuthenticator(credentialID: passkey.credentialID, userID: stranger.id, name: "Mine now"))
            #expect(try await store.authenticator(credentialID: passkey.credentialID)?.name == "Laptop")
            #expect(try await store.renameAuthenticator(credentialID: passkey.credentialID, userID: owner.id, name: "Work laptop"))
            #expect(try await store.authenticator(credentialID: passkey.credentialID)?.name == "Work laptop")
            #expect(try await store.renameAuthenticator(credentialID: passkey.credentialID, userID: owner.id, name: nil))
            #expect(try await store.authenticator(credentialID: passkey.credentialID)?.name == nil)
            #expect(try await !store.renameAuthenticator(credentialID: [0, 0], userID: owner.id, name: "x"))
        }
    }

    /// Deleting a passkey: only the owner's, and never the user's last way to sign in (a password account and a
    /// second passkey both count).
    @Test(arguments: AccountStoreKind.allCases)
    func deletingAPasskeyKeepsOneWayIn(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let (user, stranger) = (Self.user(), Self.user())
            try await store.createUser(user, account: nil)
            try await store.createUser(stranger, account: Self.account(stranger))
            let first = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], createdAt: Self.time())
            #expect(try await store.createAuthenticator(first))

            #expect(try await store.deleteAuthenticator(credentialID: first.credentialID, userID: stranger.id) == .notFound, "only the owner deletes")
            #expect(try await store.deleteAuthenticator(credentialID: [0, 0], userID: user.id) == .notFound)
            #expect(try await store.deleteAuthenticator(credentialID: first.credentialID, userID: user.id) == .lastSignInMethod)
            #expect(try await store.authenticator(credentialID: first.credentialID) == first, "the last way in stays")

            // A second passkey: either can go, then the other is the last.
            let second = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [2], createdAt: Self.time(1))
            #expect(try await store.createAuthenticator(second))
            #expect(try await store.deleteAuthenticator(credentialID: first.credentialID, userID: user.id) == .unlinked)
            #expect(try await store.authenticator(credentialID: first.credentialID) == nil)
            #expect(try await store.deleteAuthenticator(credentialID: first.credentialID, userID: user.id) == .notFound, "deleted already")
            #expect(try await store.deleteAuthenticator(credentialID: second.credentialID, userID: user.id) == .lastSignInMethod)

            // A password is a way in too.
            let password = AuthAccount(key: AccountKey(provider: "password", providerAccountID: user.id), userID: user.id, type: .credentials,
                                       passwordHash: "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA", createdAt: Self.time())
            #expect(try await store.linkAccount(password))
            #expect(try await store.deleteAuthenticator(credentialID: second.credentialID, userID: user.id) == .unlinked)
            #expect(try await store.authenticators(userID: user.id).isEmpty)
            #expect(try await store.unlinkAccount(password.key, userID: user.id) == .lastSignInMethod)
            #expect(try await store.accounts(userID: stranger.id).count == 1, "the stranger's account is untouched")
        }
    }

    /// Two racing deletions of a user's last two passkeys, or of its last passkey and last account: one succeeds,
    /// the other finds it is the last.
    @Test(arguments: AccountStoreKind.allCases)
    func racingPasskeyDeletionsKeepOneWayIn(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            for round in 0..<5 {
                let user = Self.user()
                try await store.createUser(user, account: nil)
                let (a, b) = (
                    PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], createdAt: Self.time()),
                    PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [2], createdAt: Self.time()))
                #expect(try await store.createAuthenticator(a))
                #expect(try await store.createAuthenticator(b))
                async let first = store.deleteAuthenticator(credentialID: a.credentialID, userID: user.id)
                async let second = store.deleteAuthenticator(credentialID: b.credentialID, userID: user.id)
                let outcomes = try await [first, second]
                #expect(outcomes.filter { $0 == .unlinked }.count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.filter { $0 == .lastSignInMethod }.count == 1)
                #expect(try await store.authenticators(userID: user.id).count == 1)
            }
            for round in 0..<5 {
                let user = Self.user()
                let account = Self.account(user)
                try await store.createUser(user, account: account)
                let passkey = PasskeyAuthenticator(credentialID: Array(UUID().uuidString.utf8), userID: user.id, publicKey: [1], createdAt: Self.time())
                #expect(try await store.createAuthenticator(passkey))
                async let deleted = store.deleteAuthenticator(credentialID: passkey.credentialID, userID: user.id)
                async let unlinked = store.unlinkAccount(account.key, userID: user.id)
                let outcomes = try await [deleted, unlinked]
                #expect(outcomes.filter { $0 == .unlinked }.count == 1, "round \(round): \(outcomes)")
                let left = try await store.authenticators(userID: user.id).count + store.accounts(userID: user.id).count
                #expect(left == 1)
            }
        }
    }

    /// Deleting a user takes its accounts, passkeys and verification tokens with it, and frees its address.
    @Test(arguments: AccountStoreKind.allCases)
    func deletingAUserDeletesEverythingOfIt(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let user = Self.user(Self.email())
            let account = Self.account(user)
            try await store.createUser(user, account: account)
            let credential = Array(UUID().uuidString.utf8)
            #expect(try await store.createAuthenticator(PasskeyAuthenticator(credentialID: credential, userID: user.id, publicKey: [1])))
            let (token, record) = VerificationToken.make(identifier: user.email!, purpose: "email-change", lifetime: 600)
            try await store.createVerificationToken(record)
            // A pending email change (as `Accounts.requestEmailChange` records it) goes too.
            let (change, changeRecord) = VerificationToken.make(identifier: VerificationToken.emailChangeIdentifier(userID: user.id), purpose: "email-change:new@example.com", lifetime: 600)
            try await store.createVerificationToken(changeRecord)

            let keeper = Self.user(Self.email())
            try await store.createUser(keeper, account: Self.account(keeper))

            #expect(try await store.deleteUser(id: user.id))
            #expect(try await !store.deleteUser(id: user.id))
            #expect(try await store.user(id: user.id) == nil)
            #expect(try await store.account(account.key) == nil)
            #expect(try await store.authenticator(credentialID: credential) == nil)
            #expect(try await store.useVerificationToken(identifier: user.email!, tokenHash: VerificationToken.hash(token), purpose: "email-change", now: Date()) == nil)
            #expect(try await store.useVerificationToken(
                identifier: VerificationToken.emailChangeIdentifier(userID: user.id), tokenHash: VerificationToken.hash(change), purpose: "email-change:new@example.com", now: Date()) == nil)
            try await store.createUser(Self.user(user.email), account: nil)
            #expect(try await store.user(id: keeper.id) == keeper)
            #expect(try await store.accounts(userID: keeper.id).count == 1)
        }
    }

    /// Twenty sign-ups of the same new identity at once: exactly one user, exactly one account.
    @Test(arguments: AccountStoreKind.allCases)
    func concurrentCreationsOfOneIdentityMakeOneUser(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let key = AccountKey(provider: "github", providerAccountID: UUID().uuidString)
            let email = Self.email()
            let created = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let user = Self.user(email)
                        do {
                            try await store.createUser(user, account: AuthAccount(key: key, userID: user.id, type: .oauth))
                            return user.id
                        } catch AccountStoreError.accountInUse, AccountStoreError.emailInUse {
                            return nil
                        }
                    }
                }
                return try await group.compactMap { $0 }.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(created.count == 1)
            #expect(try await store.account(key)?.userID == created.first)
            #expect(try await store.user(email: email)?.id == created.first)
        }
    }
}

/// Versioned migrations: idempotent, and two instances migrating one database at once apply each version once.
@Suite(.timeLimit(.minutes(2))) struct AccountStoreMigrationTests {
    @Test func sqliteMigratesOnceFromTwoConnections() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-migrate-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("accounts.sqlite").path
        let (a, b) = (SQLiteAccountStore(path: path), SQLiteAccountStore(path: path))
        async let first = a.migrate()
        async let second = b.migrate()
        let applied = try await [first, second]
        #expect(applied.flatMap { $0 }.count <= 1, "opening a connection migrates too, so both may find it done")
        #expect(try await a.schemaVersion() == 6)
        #expect(try await a.migrate().isEmpty)
        #expect(try await b.migrate().isEmpty)
        let user = AuthUser(email: "ada@example.com")
        try await a.createUser(user, account: nil)
        #expect(try await b.user(email: "ada@example.com") == user)
        try await a.close()
        try await b.close()
    }

    @Test func postgresMigratesOnceFromTwoClients() async throws {
        let url = try StoreFixture.environmentURL("SESAME_TEST_POSTGRES_URL")
        let schema = "sesame_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let namespace = try PostgresTableNamespace(schema: schema)
        let (clientA, clientB) = try (PostgresClient(configuration: PostgresStoreClient.configuration(url: url)), PostgresClient(configuration: PostgresStoreClient.configuration(url: url)))
        let runners = [Task { await clientA.run() }, Task { await clientB.run() }]
        defer { runners.forEach { $0.cancel() } }
        // What this test shows is the migrations' order, not latency: two fresh pools' first connections, made while
        // every other suite runs, once took longer than the default 5-second operation deadline on this 2-core VM.
        let (a, b) = (
            PostgresAccountStore(client: clientA, namespace: namespace, operationTimeout: .seconds(30)),
            PostgresAccountStore(client: clientB, namespace: namespace, operationTimeout: .seconds(30)))
        #expect(try await a.schemaVersion() == 0)
        async let first = a.migrate()
        async let second = b.migrate()
        let applied = try await [first, second]
        #expect(applied.sorted { $0.count < $1.count } == [[], [1, 2, 3, 4, 5]])
        #expect(try await a.schemaVersion() == 5)
        #expect(try await a.migrate().isEmpty)
        let user = AuthUser(email: "ada@example.com")
        try await a.createUser(user, account: nil)
        #expect(try await b.user(id: user.id) == user)
        try await clientA.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
    }
}

extension AccountStoreBehaviourTests {
    /// Every store pages through its users in byte order of their IDs, from after the cursor, never past the limit.
    @Test(arguments: AccountStoreKind.allCases)
    func usersArePagedInIDOrder(_ kind: AccountStoreKind) async throws {
        try await AccountStoreFixture.with(kind) { store in
            let directory = try #require(store as? any UserDirectory)
            #expect(try await directory.users(after: nil, limit: 10).isEmpty)
            // IDs whose byte order differs from a locale's (upper case before lower case, digits before letters).
            let ids = ["b-user", "B-user", "a-user", "0-user", "Z-user", "a-user-2"]
            for (index, id) in ids.enumerated() {
                var user = Self.user("page\(index)-" + Self.email())
                user = AuthUser(id: id, email: user.email, emailVerified: user.emailVerified, name: user.name, image: user.image,
                                createdAt: user.createdAt, updatedAt: user.updatedAt, payloadJSON: nil)
                try await store.createUser(user, account: nil)
            }
            let sorted = ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(sorted == ["0-user", "B-user", "Z-user", "a-user", "a-user-2", "b-user"])
            var seen: [String] = []
            var cursor: String? = nil
            while true {
                let page = try await directory.users(after: cursor, limit: 4)
                #expect(page.count <= 4)
                guard let last = page.last else { break }
                seen += page.map(\.id)
                cursor = last.id
            }
            #expect(seen == sorted)
            #expect(try await directory.users(after: "a-user", limit: 1).map(\.id) == ["a-user-2"])
            #expect(try await directory.users(after: "b-user", limit: 5).isEmpty)
            #expect(try await directory.users(after: nil, limit: 0).map(\.id) == ["0-user"])
            #expect(try await directory.users(after: nil, limit: 1).first?.email?.hasPrefix("page3-") == true)
        }
    }
}
