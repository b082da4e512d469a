import Foundation
import Synchronization

/// Users and their accounts, on an ``AccountStore``: how a provider's sign-in becomes a user (Auth.js's adapter
/// flow), with safe account linking and the provider's tokens sealed at rest.
///
/// ```swift
/// let accounts = Accounts(store: SQLiteAccountStore(storage: storage), keys: keys)
/// let signIn = try await accounts.signIn(provider: "github", type: .oauth, identity: identity)
/// // signIn.user, signIn.isNewUser, signIn.trigger
/// ```
///
/// The rules, in order: an identity already linked signs its user in; a signed-in user who completes another
/// provider's sign-in links it; otherwise a user with the identity's email address gets it linked only when both
/// sides proved the address (the provider verified it, and the user's address is verified), or when the app
/// allowed it for that provider by name; else the sign-in ends with ``AuthError/accountNotLinked``. A new identity
/// with an address no user has creates a user and its account in one transaction.
public struct Accounts: Sendable {
    /// The store.
    public let store: any AccountStore
    /// Providers whose identities link to a user with the same address even when one side did not prove it
    /// (Auth.js's `allowDangerousEmailAccountLinking`): only for providers whose addresses the app trusts.
    public let dangerousEmailLinking: Set<String>
    /// The providers whose tokens ``accessToken(userID:provider:)`` refreshes, by name.
    public let refreshers: [String: any TokenRefreshing]
    /// How long before expiry an access token is refreshed (default 60 seconds).
    public let refreshMargin: Double
    let sealer: ProviderTokenSealer
    let now: @Sendable () -> Date
    let flights = RefreshFlights()
    /// Where links, unlinks and deletions are recorded.
    let audit: AuditLog

    /// Creates the accounts service.
    ///
    /// - Parameters:
    ///   - store: Where users and accounts live.
    ///   - keys: The key set the provider tokens' sealing key is derived from (its active key must be private
    ///     or secret for tokens to survive a restart).
    ///   - dangerousEmailLinking: Provider names whose sign-ins link by email address without both sides
    ///     proving it (default: none).
    ///   - refreshers: The providers whose tokens ``accessToken(userID:provider:)`` refreshes, by name (an
    ///     `OAuth2Provider` or `OIDCProvider`, usually the handler's).
    ///   - refreshMargin: How long before expiry an access token is refreshed, in seconds.
    ///   - audit: Where `account_linked`, `account_unlinked` and `user_deleted` are recorded (default: swift-log).
    ///   - now: The clock.
    public init(
        store: any AccountStore, keys: KeySet, dangerousEmailLinking: Set<String> = [], refreshers: [String: any TokenRefreshing] = [:],
        refreshMargin: Double = 60, audit: AuditLog = AuditLog(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audit = audit
        self.store = store
        self.dangerousEmailLinking = dangerousEmailLinking
        self.refreshers = refreshers
        self.refreshMargin = refreshMargin
        sealer = ProviderTokenSealer(keys: keys)
        self.now = now
    }

    // MARK: Sign-in

    /// Settles who a provider's sign-in is: finds, links or creates the user.
    ///
    /// - Parameters:
    ///   - provider: The provider's name in the ``AuthHandler``.
    ///   - type: The kind of account.
    ///   - identity: What the provider verified.
    ///   - signedInUserID: The user already signed in on this request, if any: a new identity is linked to them.
    /// - Returns: The user, the account and what happened.
    /// - Throws: ``AuthError/accountNotLinked``, ``AuthError/accountLinkedElsewhere``,
    ///   ``AuthError/oauthCallback`` when the identity has no ID, ``AuthError/unavailable`` when the store fails.
    public func signIn(provider: String, type: AccountType, identity: ProviderIdentity, signedInUserID: String? = nil) async throws -> AccountSignIn {
        let signIn = try await settle(provider: provider, type: type, identity: identity, signedInUserID: signedInUserID)
        // The handler's `sign_in` event names this user.
        AuditRequest.note(userID: signIn.user.id)
        if signIn.trigger == .link { await audit.record(.accountLinked, userID: signIn.user.id, provider: provider) }
        if type == .webauthn, signIn.trigger == .signUp { await audit.record(.passkeyAdded, userID: signIn.user.id, provider: provider) }
        return signIn
    }

    private func settle(provider: String, type: AccountType, identity: ProviderIdentity, signedInUserID: String?) async throws -> AccountSignIn {
        guard let key = Self.key(provider: provider, type: type, identity: identity) else {
            throw AuthError.oauthCallback.with(detail: "the provider gave no account ID")
        }
        if type == .webauthn {
            // A passkey-first sign-up the handler's `signIn` callback allowed: the user and the passkey, written now.
            if let signUp = identity.passkeySignUp {
                try await Passkeys.create(signUp, in: store)
                return AccountSignIn(user: signUp.user, account: AuthAccount(key: key, userID: signUp.user.id, type: .webauthn, createdAt: signUp.user.createdAt), trigger: .signUp)
            }
            // A passkey names its user itself (the credential is the user's, in the store): no account to find,
            // create or link.
            let user: AuthUser?
            do { user = try await store.user(id: key.providerAccountID) } catch let error as SessionStoreError { throw AuthError.unavailable.with(detail: error.description) }
            guard let user else { throw AuthError.passkeyUnknownCredential.with(detail: "the passkey's user is gone") }
            return AccountSignIn(user: user, account: AuthAccount(key: key, userID: user.id, type: .webauthn, createdAt: user.createdAt), trigger: .signIn)
        }
        let sealed = try identity.tokens.map { try sealer.seal($0, for: key) }
        let email = Self.email(of: identity, type: type)
        let proven = type == .email || identity.profile?.emailVerified == true
        // A sign-in link never links to the signed-in user: a link can be sent to anyone and opened in their
        // browser, which would add the sender's address to the victim's account. It signs in as its address's
        // user; an address joins an account through an email change (a link to the new address).
        // A password sign-in names its user by the account it checked: it signs that user in, never links.
        let signedInUserID = type == .email || type == .credentials ? nil : signedInUserID
        do {
            // A conflict means another request created or linked the same identity meanwhile: look again.
            for _ in 0..<3 {
                // A returning sign-in with nobody signed in (the common case) records its tokens in the same step.
                if signedInUserID == nil, let sealed, let (account, user) = try await store.recordSignIn(key, tokens: sealed) {
                    return try await signInExisting(account, user: user, sealed: nil, signedInUserID: nil, provenEmail: proven ? email : nil)
                }
                if let (account, user) = try await store.accountAndUser(key) {
                    return try await signInExisting(account, user: user, sealed: sealed, signedInUserID: signedInUserID, provenEmail: proven ? email : nil)
                }
                let account = AuthAccount(key: key, userID: signedInUserID ?? "", type: type, sealedTokens: sealed, createdAt: now())
                do {
                    if let signedInUserID {
                        guard let user = try await store.user(id: signedInUserID) else { throw AuthError.accessDenied.with(detail: "the signed-in user no longer exists") }
                        guard try await store.linkAccount(account) else { throw AuthError.accessDenied.with(detail: "the signed-in user no longer exists") }
                        return AccountSignIn(user: user, account: account, trigger: .link)
                    }
                    if let email, let existing = try await store.user(email: email) {
                        guard dangerousEmailLinking.contains(provider) || (proven && existing.emailVerified != nil) else {
                            throw AuthError.accountNotLinked
                        }
                        let linked = AuthAccount(key: key, userID: existing.id, type: type, sealedTokens: sealed, createdAt: now())
                        guard try await store.linkAccount(linked) else { continue }
                        return AccountSignIn(user: existing, account: linked, trigger: .link)
                    }
                    let time = now()
                    var user = AuthUser(
                        email: email, emailVerified: proven ? time : nil, name: Self.storable(identity.profile?.name), image: Self.storable(identity.profile?.image),
                        now: time)
                    if user.email == nil { user.emailVerified = nil }
                    let created = AuthAccount(key: key, userID: user.id, type: type, sealedTokens: sealed, createdAt: time)
                    try await store.createUser(user, account: created)
                    return AccountSignIn(user: user, account: created, trigger: .signUp)
                } catch AccountStoreError.accountInUse, AccountStoreError.emailInUse, AccountStoreError.userInUse {
                    continue
                }
            }
            throw AuthError.unavailable.with(detail: "the account changed during sign-in; try again")
        } catch let error as AuthError {
            throw error
        } catch let error as SessionStoreError {
            throw AuthError.unavailable.with(detail: error.description)
        }
    }

    private func signInExisting(_ account: AuthAccount, user: AuthUser?, sealed: [UInt8]?, signedInUserID: String?, provenEmail: String?) async throws -> AccountSignIn {
        if let signedInUserID, signedInUserID != account.userID { throw AuthError.accountLinkedElsewhere }
        guard var user else {
            throw AuthError.unavailable.with(detail: "the account's user is missing")
        }
        var account = account
        if let sealed, try await store.replaceTokens(account.key, expected: account.sealedTokens, with: sealed, needsReauthentication: false) {
            account.sealedTokens = sealed
            account.needsReauthentication = false
        }
        // A sign-in that proves the user's own address again marks it verified.
        var updated = false
        if let provenEmail, user.email == provenEmail, user.emailVerified == nil {
            user.emailVerified = now().wholeMilliseconds
            user.updatedAt = now().wholeMilliseconds
            updated = try await store.updateUser(user)
        }
        return AccountSignIn(user: user, account: account, trigger: .signIn, updatedUser: updated)
    }

    /// The account key of a provider's identity: for OpenID Connect the issuer and `sub`, for OAuth 2.0 the
    /// profile's ID, for a sign-in link the address; never an email address for any other kind.
    static func key(provider: String, type: AccountType, identity: ProviderIdentity) -> AccountKey? {
        guard let key = rawKey(provider: provider, type: type, identity: identity) else { return nil }
        // IDs are text a store can keep: no control characters (a NUL would be refused by PostgreSQL), at most 1 KiB.
        for part in [key.issuer, key.providerAccountID] where part.utf8.count > 1024 || part.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return nil
        }
        return key
    }

    private static func rawKey(provider: String, type: AccountType, identity: ProviderIdentity) -> AccountKey? {
        switch type {
        case .email:
            return email(of: identity, type: type).map { AccountKey(provider: provider, providerAccountID: $0) }
        case .oidc:
            guard let issuer = identity.claims["iss"]?.stringValue, !issuer.isEmpty,
                let subject = identity.profile?.id ?? identity.claims["sub"]?.stringValue, !subject.isEmpty
            else { return nil }
            return AccountKey(provider: provider, issuer: issuer, providerAccountID: subject)
        case .oauth, .credentials, .webauthn:
            guard let id = identity.profile?.id, !id.isEmpty else { return nil }
            return AccountKey(provider: provider, providerAccountID: id)
        }
    }

    /// A provider's display text if a store can keep it (no NUL, at most 2 KiB); otherwise it is left out.
    static func storable(_ text: String?) -> String? {
        guard let text, !text.contains("\u{0}"), text.utf8.count <= 2048 else { return nil }
        return text
    }

    static func email(of identity: ProviderIdentity, type: AccountType) -> String? {
        let text = type == .email ? identity.claims["email"]?.stringValue : (identity.profile?.email ?? identity.claims["email"]?.stringValue)
        return text.flatMap(EmailAddress.normalized)
    }

    // MARK: Managing accounts

    /// A user's linked accounts (without their tokens' plaintext).
    ///
    /// - Parameter userID: The user.
    /// - Returns: The accounts, oldest first.
    public func linkedAccounts(userID: String) async throws -> [AuthAccount] {
        try await store.accounts(userID: userID)
    }

    /// Unlinks one of a user's accounts.
    ///
    /// - Parameters:
    ///   - key: The account.
    ///   - userID: The signed-in user, who must own it.
    /// - Throws: ``AuthError/lastSignInMethod`` when it is the user's last way to sign in, ``AuthError/notFound``
    ///   when the user has no such account.
    public func unlink(_ key: AccountKey, userID: String) async throws {
        switch try await store.unlinkAccount(key, userID: userID) {
        case .unlinked: await audit.record(.accountUnlinked, userID: userID, provider: key.provider)
        case .notFound: throw AuthError.notFound.with(detail: "no such linked account")
        case .lastSignInMethod: throw AuthError.lastSignInMethod
        }
    }

    /// Deletes a user: first every session of theirs ends (stored sessions deleted, stateless ones revoked), then
    /// the user goes with their accounts, passkeys and tokens.
    ///
    /// - Parameters:
    ///   - id: The user.
    ///   - endSessions: Ends the user's sessions, for example
    ///     `{ try await sessions.endAllSessions(subjectID: AppSession.user(userID: $0).subjectIdentifier) }`. When
    ///     it throws, nothing is deleted.
    /// - Returns: `false` when there was no such user.
    @discardableResult
    public func deleteUser(id: String, endSessions: @Sendable (String) async throws -> Void) async throws -> Bool {
        try await endSessions(id)
        guard try await store.deleteUser(id: id) else { return false }
        await audit.record(.userDeleted, userID: id)
        return true
    }

    /// Starts an email change: a single-use token for a link to send to the new address. Nothing changes until the
    /// link is confirmed (``confirmEmailChange(userID:newEmail:token:)``); a newer request replaces an older one.
    ///
    /// - Parameters:
    ///   - userID: The signed-in user (the app checks a recent sign-in first).
    ///   - newEmail: The new address.
    ///   - lifetime: How long the link works, in seconds (default one hour).
    /// - Returns: The token and the normalised address, for the link (`?uid=…&email=…&token=…`).
    /// - Throws: ``AuthError/invalidRequest`` when the address does not look like one, ``AuthError/notFound`` when
    ///   there is no such user.
    public func requestEmailChange(userID: String, newEmail: String, lifetime: Double = 3600) async throws -> (token: String, email: String) {
        guard let email = EmailAddress.normalized(newEmail) else { throw AuthError.invalidRequest.with(detail: "not an email address") }
        do {
            guard try await store.user(id: userID) != nil else { throw AuthError.notFound.with(detail: "no such user") }
            try await store.deleteVerificationTokens(identifier: VerificationToken.emailChangeIdentifier(userID: userID))
            let (token, record) = VerificationToken.make(
                identifier: VerificationToken.emailChangeIdentifier(userID: userID), purpose: Self.emailChangePurpose(email), lifetime: lifetime, now: now())
            try await store.createVerificationToken(record)
            return (token, email)
        } catch let error as SessionStoreError {
            throw AuthError.unavailable.with(detail: error.description)
        }
    }

    /// Confirms an email change from its link: the token must be the newest one issued to this user for this
    /// address, unexpired and unused; the address becomes the user's, verified now.
    ///
    /// - Returns: The updated user.
    /// - Throws: ``AuthError/invalidToken`` for a token that is wrong, used, expired, replaced or for another
    ///   address; ``AuthError/emailInUse`` when another user took the address meanwhile.
    @discardableResult
    public func confirmEmailChange(userID: String, newEmail: String, token: String) async throws -> AuthUser {
        guard let email = EmailAddress.normalized(newEmail) else { throw AuthError.invalidToken }
        do {
            guard try await store.useVerificationToken(
                identifier: VerificationToken.emailChangeIdentifier(userID: userID), tokenHash: VerificationToken.hash(token), purpose: Self.emailChangePurpose(email), now: now()) != nil,
                var user = try await store.user(id: userID)
            else { throw AuthError.invalidToken }
            let time = now().wholeMilliseconds
            user.setEmail(email, verifiedAt: time)
            user.updatedAt = time
            do {
                guard try await store.updateUser(user) else { throw AuthError.invalidToken }
            } catch AccountStoreError.emailInUse {
                throw AuthError.emailInUse
            }
            return user
        } catch let error as SessionStoreError {
            throw AuthError.unavailable.with(detail: error.description)
        }
    }

    static func emailChangePurpose(_ email: String) -> String { "email-change:" + email }

    /// The provider's tokens for a user's account with a provider, opened.
    ///
    /// - Parameters:
    ///   - userID: The user.
    ///   - provider: The provider's name.
    /// - Returns: The tokens, or `nil` when the user has no such account or it holds none.
    public func providerTokens(userID: String, provider: String) async throws -> TokenSet? {
        guard let account = try await store.accounts(userID: userID).first(where: { $0.key.provider == provider }),
            let sealed = account.sealedTokens
        else { return nil }
        return sealer.open(sealed, for: account.key)
    }
}

extension Accounts {
    /// How long one process may hold an account's refresh lease before another may take it over.
    static let refreshLease: Double = 30

    /// A valid access token for a user's account with a provider: the stored one while it is not about to
    /// expire, else a refreshed one.
    ///
    /// A refresh happens once even when many requests ask at the same moment: once per process (the callers share
    /// one refresh) and once across processes (the store's refresh lease; the others wait for its result). The new
    /// tokens (with a rotated refresh token) replace the old ones atomically.
    ///
    /// - Parameters:
    ///   - userID: The user.
    ///   - provider: The provider's name.
    /// - Returns: The access token.
    /// - Throws: ``AuthError/notFound`` when the user has no account with the provider;
    ///   ``AuthError/reauthenticationRequired`` when the provider refused the refresh token (the account is marked,
    ///   and stays so until the user signs in with the provider again) or there is none; ``AuthError/providerUnavailable``
    ///   when the provider cannot be reached (nothing changed); ``AuthError/unavailable`` when the store fails.
    public func accessToken(userID: String, provider: String) async throws -> String {
        do {
            guard let account = try await store.accounts(userID: userID).first(where: { $0.key.provider == provider }) else {
                throw AuthError.notFound.with(detail: "the user has no account with this provider")
            }
            let tokens = try current(account)
            if isFresh(tokens) { return tokens.accessToken }
            return try await flights.run(account.key) { try await refresh(account.key) }.accessToken
        } catch let error as SessionStoreError {
            throw AuthError.unavailable.with(detail: error.description)
        }
    }

    /// The account's tokens, opened; refuses an account that needs a new sign-in.
    private func current(_ account: AuthAccount) throws -> TokenSet {
        guard !account.needsReauthentication, let sealed = account.sealedTokens, let tokens = sealer.open(sealed, for: account.key) else {
            throw AuthError.reauthenticationRequired
        }
        return tokens
    }

    private func isFresh(_ tokens: TokenSet) -> Bool {
        guard let expiresAt = tokens.expiresAt else { return true }
        return expiresAt.timeIntervalSince(now()) > refreshMargin
    }

    /// One refresh of an account's tokens, or the result of another process's.
    private func refresh(_ key: AccountKey) async throws -> TokenSet {
        guard let refresher = refreshers[key.provider] else {
            throw AuthError.reauthenticationRequired.with(detail: "no refresher is configured for this provider")
        }
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(Self.refreshLease)
        while true {
            // Another process may have refreshed meanwhile.
            guard let account = try await store.account(key) else { throw AuthError.notFound.with(detail: "the account was unlinked") }
            let tokens = try current(account)
            if isFresh(tokens) { return tokens }
            let time = now()
            if let claimed = try await store.claimTokenRefresh(key, until: time.addingTimeInterval(Self.refreshLease), now: time) {
                let claimedTokens: TokenSet
                do {
                    claimedTokens = try current(claimed)
                } catch {
                    try await store.releaseTokenRefresh(key)
                    throw error
                }
                if isFresh(claimedTokens) {
                    try await store.releaseTokenRefresh(key)
                    return claimedTokens
                }
                guard let refreshToken = claimedTokens.refreshToken else {
                    _ = try await store.replaceTokens(key, expected: claimed.sealedTokens, with: claimed.sealedTokens, needsReauthentication: true)
                    throw AuthError.reauthenticationRequired.with(detail: "the provider issued no refresh token")
                }
                let refreshed: TokenSet
                do {
                    refreshed = try await refresher.refreshTokens(refreshToken)
                } catch .refused {
                    _ = try await store.replaceTokens(key, expected: claimed.sealedTokens, with: claimed.sealedTokens, needsReauthentication: true)
                    throw AuthError.reauthenticationRequired
                } catch .unavailable(let detail) {
                    try await store.releaseTokenRefresh(key)
                    throw AuthError.providerUnavailable.with(detail: detail)
                }
                let sealed = try sealer.seal(refreshed, for: key)
                if try await store.replaceTokens(key, expected: claimed.sealedTokens, with: sealed, needsReauthentication: false) {
                    return refreshed
                }
                // The tokens changed under the lease (a new sign-in stored fresh ones): read them again.
                continue
            }
            guard clock.now < giveUp else { throw AuthError.providerUnavailable.with(detail: "another process's refresh did not finish") }
            try await Task.sleep(for: .milliseconds(25))
        }
    }
}

/// The refreshes running in this process, one per account: callers that arrive while one runs share its result.
final class RefreshFlights: Sendable {
    private let running = Mutex<[AccountKey: Task<TokenSet, any Error>]>([:])

    func run(_ key: AccountKey, _ work: @escaping @Sendable () async throws -> TokenSet) async throws -> TokenSet {
        let task = running.withLock { running in
            if let task = running[key] { return task }
            let task = Task { try await work() }
            running[key] = task
            return task
        }
        defer { running.withLock { if $0[key] == task { $0[key] = nil } } }
        return try await task.value
    }
}

/// The outcome of ``Accounts/signIn(provider:type:identity:signedInUserID:)``.
public struct AccountSignIn: Sendable {
    /// What the sign-in did: Auth.js's `trigger`.
    public enum Trigger: String, Sendable {
        /// An existing account signed its user in.
        case signIn
        /// A new user was created with the account.
        case signUp
        /// The account was linked to an existing user.
        case link
    }

    /// The user who signed in.
    public let user: AuthUser
    /// The account used.
    public let account: AuthAccount
    /// What happened.
    public let trigger: Trigger
    /// Whether the sign-in changed the user (it proved an address that was not verified yet): Auth.js's
    /// `updateUser` event.
    public let updatedUser: Bool
    /// Whether the user was created by this sign-in (Auth.js's `isNewUser`).
    public var isNewUser: Bool { trigger == .signUp }

    init(user: AuthUser, account: AuthAccount, trigger: Trigger, updatedUser: Bool = false) {
        self.user = user
        self.account = account
        self.trigger = trigger
        self.updatedUser = updatedUser
    }
}
