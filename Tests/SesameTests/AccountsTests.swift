import Foundation
import Synchronization
import Testing

@testable import Sesame

/// How a provider's sign-in becomes a user: Auth.js's adapter flow, with linking by email only when both sides
/// proved the address, and provider tokens sealed at rest.
@Suite struct AccountsTests {
    let keys = try! KeySet(activeKey: JWK.generate(.es256))

    func accounts(_ store: MemoryAccountStore = MemoryAccountStore(), dangerous: Set<String> = []) -> Accounts {
        Accounts(store: store, keys: keys, dangerousEmailLinking: dangerous)
    }

    static func oauth(id: String, email: String? = nil, verified: Bool = true, token: String = "access-1") -> ProviderIdentity {
        ProviderIdentity(claims: [:], tokens: TokenSet(accessToken: token, refreshToken: "refresh-1", expiresAt: Date().addingTimeInterval(3600)),
                         profile: Profile(id: id, email: email, emailVerified: verified, name: "Ada"))
    }

    static func oidc(issuer: String, sub: String, email: String? = nil, verified: Bool = true) -> ProviderIdentity {
        ProviderIdentity(claims: ["iss": .string(issuer), "sub": .string(sub)], tokens: TokenSet(accessToken: "oidc-access"),
                         profile: Profile(id: sub, email: email, emailVerified: verified))
    }

    static func link(_ email: String) -> ProviderIdentity {
        ProviderIdentity(claims: ["email": .string(email)])
    }

    @Test func aNewIdentityCreatesAUserAndSignsItInAfterwards() async throws {
        let accounts = accounts()
        let first = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", email: " Ada@Example.COM "))
        #expect(first.isNewUser && first.trigger == .signUp)
        #expect(first.user.email == "ada@example.com" && first.user.emailVerified != nil && first.user.name == "Ada")
        let again = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", email: "ada@example.com"))
        #expect(again.trigger == .signIn && !again.isNewUser && again.user.id == first.user.id)
        // An unverified address is kept, not verified; a later sign-in that proves it marks it (Auth.js's updateUser).
        let unverified = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "43", email: "bob@example.com", verified: false))
        #expect(unverified.user.emailVerified == nil && !unverified.updatedUser)
        let proven = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "43", email: "bob@example.com", verified: true))
        #expect(proven.updatedUser && proven.user.emailVerified != nil)
        #expect(try await accounts.store.user(id: unverified.user.id)?.emailVerified != nil)
        #expect(try await !accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "43", email: "bob@example.com")).updatedUser)
    }

    @Test func aSignedInUserLinksAnotherProvider() async throws {
        let accounts = accounts()
        let user = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42")).user
        let linked = try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "7"), signedInUserID: user.id)
        #expect(linked.trigger == .link && linked.user.id == user.id)
        #expect(try await accounts.linkedAccounts(userID: user.id).map(\.key.provider).sorted() == ["github", "gitlab"])
        // The linked account now signs the same user in on its own.
        #expect(try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "7")).user.id == user.id)
    }

    /// A sign-in link opened by a signed-in user does not add its address to their account (the link may come from
    /// an attacker who wants their address on the victim's account): it signs in as the address's own user.
    @Test func aSignInLinkNeverLinksToTheSignedInUser() async throws {
        let accounts = accounts()
        let victim = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", email: "victim@example.com")).user
        let result = try await accounts.signIn(provider: "email", type: .email, identity: Self.link("attacker@evil.example"), signedInUserID: victim.id)
        #expect(result.user.id != victim.id && result.isNewUser)
        #expect(try await accounts.linkedAccounts(userID: victim.id).map(\.key.provider) == ["github"])
    }

    @Test func anIdentityOfAnotherUserIsNotTakenOver() async throws {
        let accounts = accounts()
        let owner = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42")).user
        let other = try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "7")).user
        await #expect(throws: AuthError.accountLinkedElsewhere) {
            try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42"), signedInUserID: other.id)
        }
        #expect(try await accounts.linkedAccounts(userID: owner.id).count == 1)
        #expect(try await accounts.linkedAccounts(userID: other.id).count == 1)
    }

    /// The pre-account-takeover cases: an address alone never joins two identities unless both proved it.
    @Test func emailLinkingNeedsTheAddressProvenOnBothSides() async throws {
        let store = MemoryAccountStore()
        let accounts = accounts(store)
        let verified = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "1", email: "ada@example.com")).user

        // The provider did not verify the address: refused.
        await #expect(throws: AuthError.accountNotLinked) {
            try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "2", email: "ada@example.com", verified: false))
        }
        // Both proved it: linked.
        let linked = try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "2", email: "ADA@example.com"))
        #expect(linked.trigger == .link && linked.user.id == verified.id)
        // A sign-in link proves the address too.
        #expect(try await accounts.signIn(provider: "email", type: .email, identity: Self.link("ada@example.com")).user.id == verified.id)

        // The existing user's address is not proven (a provider that does not verify): a verified sign-in is refused,
        // so whoever registered the address first cannot collect its owner's later sign-ins.
        let squatter = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "3", email: "eve@example.com", verified: false)).user
        await #expect(throws: AuthError.accountNotLinked) {
            try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "4", email: "eve@example.com"))
        }
        await #expect(throws: AuthError.accountNotLinked) {
            try await accounts.signIn(provider: "email", type: .email, identity: Self.link("eve@example.com"))
        }
        #expect(try await accounts.linkedAccounts(userID: squatter.id).count == 1)
        #expect(try await store.account(AccountKey(provider: "gitlab", providerAccountID: "4")) == nil, "nothing was created")
    }

    /// Entra's preset never marks an address verified, so Entra sign-ins never link by email; an app may loosen
    /// the rule for one provider by name, never globally.
    @Test func entraNeverLinksByEmailAndLooseningIsPerProvider() async throws {
        let accounts = accounts(dangerous: ["partner"])
        let user = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "1", email: "ada@example.com")).user
        let entra = Self.oidc(issuer: "https://login.microsoftonline.com/tid/v2.0", sub: "s", email: "ada@example.com", verified: false)
        await #expect(throws: AuthError.accountNotLinked) { try await accounts.signIn(provider: "entra", type: .oidc, identity: entra) }
        let partner = try await accounts.signIn(provider: "partner", type: .oauth, identity: Self.oauth(id: "p", email: "ada@example.com", verified: false))
        #expect(partner.user.id == user.id && partner.trigger == .link)
    }

    /// OpenID Connect accounts are the issuer and `sub`: the same `sub` from another issuer is someone else.
    @Test func openIDConnectAccountsAreIssuerAndSubject() async throws {
        let accounts = accounts()
        let a = try await accounts.signIn(provider: "sso", type: .oidc, identity: Self.oidc(issuer: "https://a.example", sub: "1"))
        let b = try await accounts.signIn(provider: "sso", type: .oidc, identity: Self.oidc(issuer: "https://b.example", sub: "1"))
        #expect(a.user.id != b.user.id && b.isNewUser)
        #expect(a.account.key == AccountKey(provider: "sso", issuer: "https://a.example", providerAccountID: "1"))
        // No issuer, no account: the ID alone does not say whose it is.
        await #expect(throws: AuthError.oauthCallback) {
            try await accounts.signIn(provider: "sso", type: .oidc, identity: ProviderIdentity(claims: ["sub": "1"], profile: Profile(id: "1")))
        }
        await #expect(throws: AuthError.oauthCallback) {
            try await accounts.signIn(provider: "github", type: .oauth, identity: ProviderIdentity(claims: [:]))
        }
        // A display name or picture a store could not keep is left out, not an error.
        let odd = ProviderIdentity(claims: [:], profile: Profile(id: "odd", name: "Ada\u{0}", image: String(repeating: "i", count: 3000)))
        let user = try await accounts.signIn(provider: "github", type: .oauth, identity: odd).user
        #expect(user.name == nil && user.image == nil)
        // IDs a store could not keep (a NUL, other controls, over 1 KiB) are refused as the provider's bad answer.
        for bad in ["a\u{0}b", "line\nbreak", String(repeating: "x", count: 1025)] {
            await #expect(throws: AuthError.oauthCallback) {
                try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: bad))
            }
            await #expect(throws: AuthError.oauthCallback) {
                try await accounts.signIn(provider: "sso", type: .oidc, identity: Self.oidc(issuer: bad, sub: "1"))
            }
        }
    }

    /// Provider tokens are sealed: the store never holds them in the clear, a sealed value moved to another
    /// account does not open, and another key set cannot open them; an old key still opens them after a rotation.
    @Test func providerTokensAreSealedAtRest() async throws {
        let store = MemoryAccountStore()
        let accounts = accounts(store)
        let signIn = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", token: "secret-access-token"))
        let sealed = try #require(try await store.account(signIn.account.key)?.sealedTokens)
        #expect(!String(decoding: sealed, as: UTF8.self).contains("secret-access-token"))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("refresh-1"))
        let tokens = try #require(try await accounts.providerTokens(userID: signIn.user.id, provider: "github"))
        #expect(tokens.accessToken == "secret-access-token" && tokens.refreshToken == "refresh-1" && tokens.expiresAt != nil)

        let sealer = ProviderTokenSealer(keys: keys)
        #expect(sealer.open(sealed, for: AccountKey(provider: "github", providerAccountID: "43")) == nil, "bound to its account")
        var tampered = sealed
        tampered[tampered.count / 2] ^= 1
        #expect(sealer.open(tampered, for: signIn.account.key) == nil)
        #expect(sealer.open(Array(sealed.prefix(20)), for: signIn.account.key) == nil)
        #expect(ProviderTokenSealer(keys: try KeySet(activeKey: JWK.generate(.es256))).open(sealed, for: signIn.account.key) == nil)
        let rotated = try KeySet(activeKey: JWK.generate(.es256), verificationKeys: [keys.activeKey!])
        #expect(ProviderTokenSealer(keys: rotated).open(sealed, for: signIn.account.key)?.accessToken == "secret-access-token")

        // A later sign-in replaces the tokens.
        _ = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", token: "second"))
        #expect(try await accounts.providerTokens(userID: signIn.user.id, provider: "github")?.accessToken == "second")
    }

    @Test func twentyConcurrentSignInsOfOneNewIdentityMakeOneUser() async throws {
        let accounts = accounts()
        let ids = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let signIn = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", email: "ada@example.com"))
                    return (signIn.user.id, signIn.isNewUser)
                }
            }
            return try await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
        }
        #expect(Set(ids.map(\.0)).count == 1)
        #expect(ids.filter(\.1).count == 1, "exactly one sign-in created the user")
    }

    @Test func unlinkingNeverRemovesTheLastWayIn() async throws {
        let accounts = accounts()
        let user = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42")).user
        let github = AccountKey(provider: "github", providerAccountID: "42")
        await #expect(throws: AuthError.lastSignInMethod) { try await accounts.unlink(github, userID: user.id) }
        _ = try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "7"), signedInUserID: user.id)
        await #expect(throws: AuthError.notFound) { try await accounts.unlink(github, userID: "someone-else") }
        try await accounts.unlink(github, userID: user.id)
        #expect(try await accounts.linkedAccounts(userID: user.id).map(\.key.provider) == ["gitlab"])
    }

    /// Deleting a user ends their sessions first; when that fails, nothing is deleted.
    @Test func deletingAUserEndsTheirSessionsFirst() async throws {
        let store = MemoryAccountStore()
        let accounts = accounts(store)
        let user = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42")).user
        struct Down: Error {}
        await #expect(throws: Down.self) { try await accounts.deleteUser(id: user.id) { _ in throw Down() } }
        #expect(try await store.user(id: user.id) != nil)

        let sessions = try SessionTokens<Subject>(keys: keys, revocations: MemoryRevocationStore())
        let token = try sessions.create(.user(id: user.id))
        #expect(try await accounts.deleteUser(id: user.id) { id in try await sessions.endAllSessions(subjectID: Subject.user(id: id).subjectIdentifier) })
        #expect(try await store.user(id: user.id) == nil)
        #expect(try await store.accounts(userID: user.id).isEmpty)
        await #expect(throws: TokenError.self) { try await sessions.verify(token) }
    }

    enum Subject: SessionSubject { case user(id: String) }

    /// A provider's token endpoint in memory: counts refreshes, rotates refresh tokens, refuses a used one.
    final class FakeRefresher: TokenRefreshing {
        let state = Mutex((count: 0, valid: Set(["refresh-1"]), down: false))
        func refreshTokens(_ refreshToken: String) async throws(TokenRefreshError) -> TokenSet {
            try? await Task.sleep(for: .milliseconds(20))
            return try state.withLock { (state) throws(TokenRefreshError) -> TokenSet in
                if state.down { throw TokenRefreshError.unavailable("down") }
                state.count += 1
                guard state.valid.remove(refreshToken) != nil else { throw TokenRefreshError.refused("invalid_grant") }
                let next = "refresh-\(state.count + 1)"
                state.valid.insert(next)
                return TokenSet(accessToken: "access-\(state.count + 1)", refreshToken: next, expiresAt: Date().addingTimeInterval(3600))
            }
        }
    }

    /// 50 callers at once for an expired token: one refresh, the rotated token stored, everyone served; a refused
    /// refresh marks the account; a provider that is down changes nothing.
    @Test func anExpiredTokenIsRefreshedOnce() async throws {
        let store = MemoryAccountStore()
        let refresher = FakeRefresher()
        let signIn = try await accounts(store).signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42"))
        let later = Accounts(store: store, keys: keys, refreshers: ["github": refresher], now: { Date().addingTimeInterval(7200) })
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await later.accessToken(userID: signIn.user.id, provider: "github") } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(tokens) == ["access-2"])
        #expect(refresher.state.withLock { $0.count } == 1)
        #expect(try await later.providerTokens(userID: signIn.user.id, provider: "github")?.refreshToken == "refresh-2")

        refresher.state.withLock { $0.down = true }
        let evenLater = Accounts(store: store, keys: keys, refreshers: ["github": refresher], now: { Date().addingTimeInterval(4 * 3600) })
        let before = try await store.account(signIn.account.key)
        await #expect(throws: AuthError.providerUnavailable) { try await evenLater.accessToken(userID: signIn.user.id, provider: "github") }
        #expect(try await store.account(signIn.account.key) == before)

        refresher.state.withLock { $0.down = false; $0.valid = [] }
        await #expect(throws: AuthError.reauthenticationRequired) { try await evenLater.accessToken(userID: signIn.user.id, provider: "github") }
        #expect(try await store.account(signIn.account.key)?.needsReauthentication == true)
        // A new sign-in with the provider stores fresh tokens and clears the mark.
        _ = try await accounts(store).signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "42", token: "fresh"))
        #expect(try await store.account(signIn.account.key)?.needsReauthentication == false)
        #expect(try await accounts(store).accessToken(userID: signIn.user.id, provider: "github") == "fresh")
    }

    /// An email change goes through a link to the new address; until it is confirmed the old address stays.
    @Test func emailChangesNeedTheNewAddressProven() async throws {
        let store = MemoryAccountStore()
        let accounts = accounts(store)
        let user = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "1", email: "ada@example.com")).user
        let first = try await accounts.requestEmailChange(userID: user.id, newEmail: " Ada@New.example ")
        #expect(first.email == "ada@new.example")
        #expect(try await store.user(id: user.id)?.email == "ada@example.com", "nothing changes before the link is confirmed")
        // A newer request replaces the older link.
        let second = try await accounts.requestEmailChange(userID: user.id, newEmail: "ada@new.example")
        await #expect(throws: AuthError.invalidToken) { try await accounts.confirmEmailChange(userID: user.id, newEmail: "ada@new.example", token: first.token) }
        // The token works only for the address and user it was issued for, and once.
        await #expect(throws: AuthError.invalidToken) { try await accounts.confirmEmailChange(userID: user.id, newEmail: "eve@evil.example", token: second.token) }
        let other = try await accounts.signIn(provider: "github", type: .oauth, identity: Self.oauth(id: "2")).user
        await #expect(throws: AuthError.invalidToken) { try await accounts.confirmEmailChange(userID: other.id, newEmail: "ada@new.example", token: second.token) }
        let changed = try await accounts.confirmEmailChange(userID: user.id, newEmail: "ada@new.example", token: second.token)
        #expect(changed.email == "ada@new.example" && changed.emailVerified != nil)
        #expect(try await store.user(email: "ada@example.com") == nil)
        #expect(try await store.user(email: "ada@new.example")?.id == user.id)
        await #expect(throws: AuthError.invalidToken) { try await accounts.confirmEmailChange(userID: user.id, newEmail: "ada@new.example", token: second.token) }

        // An address another user took meanwhile is refused when the link is confirmed.
        let pending = try await accounts.requestEmailChange(userID: other.id, newEmail: "bob@example.com")
        _ = try await accounts.signIn(provider: "gitlab", type: .oauth, identity: Self.oauth(id: "3", email: "bob@example.com"))
        await #expect(throws: AuthError.emailInUse) { try await accounts.confirmEmailChange(userID: other.id, newEmail: "bob@example.com", token: pending.token) }
        await #expect(throws: AuthError.invalidRequest) { try await accounts.requestEmailChange(userID: user.id, newEmail: "not an address") }
        await #expect(throws: AuthError.notFound) { try await accounts.requestEmailChange(userID: "nobody", newEmail: "x@example.com") }
        // An expired link is refused.
        let expired = try await accounts.requestEmailChange(userID: user.id, newEmail: "late@example.com", lifetime: -1)
        await #expect(throws: AuthError.invalidToken) { try await accounts.confirmEmailChange(userID: user.id, newEmail: "late@example.com", token: expired.token) }
    }

    @Test func addressesAreNormalised() {
        #expect(EmailAddress.normalized("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com")
        for bad in ["", "ada", "ada@", "@example.com", "a@b", "a b@example.com", "a@exa..mple.com", "a@example.com.", "<a>@example.com",
                    "a@@example.com", "a\u{0}@example.com", "a\u{85}@example.com", String(repeating: "a", count: 65) + "@example.com"] {
            #expect(EmailAddress.normalized(bad) == nil, "\(bad)")
        }
        // Where links are sent, only the domain is lowercased; the same check refuses the same addresses.
        #expect(EmailAddress.deliverable("  Ada.Lovelace@Example.COM ") == "Ada.Lovelace@example.com")
        #expect(EmailAddress.deliverable("a\u{85}@example.com") == nil && EmailAddress.deliverable("a b@example.com") == nil)
        var user = AuthUser(email: "not an address", emailVerified: Date())
        #expect(user.email == nil && user.emailVerified == nil)
        let refused = user.setEmail("nope")
        #expect(!refused)
        let accepted = user.setEmail("New@Example.com", verifiedAt: nil)
        #expect(accepted && user.email == "new@example.com" && user.emailVerified == nil)
    }
}
