import Crypto
import Foundation

/// Email-and-password accounts on an ``AccountStore``: sign-up, sign-in, password changes and resets, and email
/// verification, each with the checks NIST SP 800-63B and OWASP ASVS ask for.
///
/// ```swift
/// let passwords = PasswordAccounts(store: store)
/// let signUp = try await passwords.signUp(email: "ada@example.com", password: "a long passphrase", client: ip)
/// // deliver signUp.verification (a link token and an 8-digit code), or tell the owner of a known address
/// let user = try await passwords.signIn(email: "ada@example.com", password: "a long passphrase", client: ip)
/// ```
///
/// A password is an account of type ``AccountType/credentials`` keyed by the user's ID under
/// ``Configuration/provider``, its hash in ``AuthAccount/passwordHash`` (so it counts as a way to sign in, and
/// unlinking the last way in is refused). What an attacker learns is the same for known and unknown addresses:
/// sign-in, sign-up and reset requests answer alike and spend one password hash either way. Sign-in attempts,
/// reset and verification requests are limited per address and per client (``Configuration/perAddress``,
/// ``Configuration/perClient``); nothing ever locks an account.
public struct PasswordAccounts: Sendable {
    /// Limits, lifetimes and rules.
    public struct Configuration: Sendable {
        /// The provider name password accounts are stored under (default `password`).
        public var provider: String
        /// What a new password must be.
        public var policy: PasswordPolicy
        /// A breach corpus new passwords are checked against (default none).
        public var breaches: (any BreachedPasswordCheck)?
        /// Whether a password sign-in needs a verified address (default `true`: an address someone typed proves
        /// nothing until its owner opens the link).
        public var requiresVerifiedEmail: Bool
        /// How long a reset link is valid, in seconds (default and most: 1 hour).
        public var resetLifetime: Double
        /// How long an email verification link and code are valid, in seconds (default and most: 15 minutes).
        public var verificationLifetime: Double
        /// Attempts per address (default: 5 at once, then one a minute), for sign-in, reset and verification
        /// separately.
        public var perAddress: any RateLimiter
        /// Attempts per client address, the /64 for IPv6 (default: 30 at once, then one every 2 seconds).
        public var perClient: any RateLimiter

        /// Creates a configuration.
        public init(
            provider: String = "password",
            policy: PasswordPolicy = PasswordPolicy(),
            breaches: (any BreachedPasswordCheck)? = nil,
            requiresVerifiedEmail: Bool = true,
            resetLifetime: Double = 3600,
            verificationLifetime: Double = 900,
            perAddress: any RateLimiter = MemoryRateLimiter(capacity: 5, refillInterval: 60),
            perClient: any RateLimiter = MemoryRateLimiter(capacity: 30, refillInterval: 2)
        ) {
            self.provider = provider
            self.policy = policy
            self.breaches = breaches
            self.requiresVerifiedEmail = requiresVerifiedEmail
            self.resetLifetime = min(resetLifetime, 3600)
            self.verificationLifetime = min(verificationLifetime, 900)
            self.perAddress = perAddress
            self.perClient = perClient
        }
    }

    /// What a sign-up did; the caller answers both alike and delivers the message in the background.
    public enum SignUp: Sendable {
        /// A new, unverified user with a password: send them ``EmailVerification``.
        case created(AuthUser, EmailVerification)
        /// The address belongs to a user already: nothing was written; tell its owner (someone tried to sign up).
        case addressInUse(AuthUser)
    }

    /// An email verification to deliver: a link token and an 8-digit code, either of which verifies the address once.
    public struct EmailVerification: Sendable {
        /// The address it is for.
        public let email: String
        /// The link's token (put it in a link with the address).
        public let token: String
        /// The code, for typing in.
        public let code: String
    }

    /// A password reset to deliver.
    public struct PasswordReset: Sendable {
        /// The user.
        public let user: AuthUser
        /// The link's token (put it in a link with the user's ID).
        public let token: String
    }

    /// The store.
    public let store: any AccountStore
    /// The hasher.
    public let hasher: ScryptPasswordHasher
    /// The configuration.
    public let configuration: Configuration
    /// Where password changes are recorded.
    let audit: AuditLog
    let now: @Sendable () -> Date

    /// The verification token purposes.
    static let verifyLinkPurpose = "verify-email", verifyCodePurpose = "verify-email-code", resetPurpose = "password-reset"

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - store: Where users and accounts live.
    ///   - hasher: How passwords are hashed (default: scrypt with OWASP's parameters on the shared queue).
    ///   - configuration: Limits, lifetimes and rules.
    ///   - audit: Where `password_changed` is recorded (default: swift-log).
    ///   - now: The clock.
    public init(
        store: any AccountStore, hasher: ScryptPasswordHasher = ScryptPasswordHasher(), configuration: Configuration = Configuration(),
        audit: AuditLog = AuditLog(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audit = audit
        self.store = store
        self.hasher = hasher
        self.configuration = configuration
        self.now = now
    }

    /// The account key of a user's password.
    public func key(userID: String) -> AccountKey { AccountKey(provider: configuration.provider, providerAccountID: userID) }

    // MARK: Sign-up and sign-in

    /// Signs up a new user with a password; the address stays unverified until ``verifyEmail(_:token:)`` or
    /// ``verifyEmail(_:code:)``.
    ///
    /// - Parameters:
    ///   - email: The address.
    ///   - password: The new password.
    ///   - name: A display name, if given.
    ///   - client: The client's IP address, for its rate limit.
    /// - Returns: ``SignUp/created(_:_:)`` or ``SignUp/addressInUse(_:)``, after the same work.
    /// - Throws: ``AuthError/invalidRequest`` for an address that is not deliverable, ``AuthError/weakPassword``,
    ///   ``AuthError/rateLimited``, ``AuthError/serverBusy``, ``AuthError/unavailable``.
    public func signUp(email: String, password: String, name: String? = nil, client: String?) async throws -> SignUp {
        let email = try Self.address(email)
        try await limit(client: client)
        try await checkPolicy(password)
        // The hash is computed for a known address too, so that both answers cost the same.
        let hash = try await hasher.hash(password)
        return try await storeErrors {
            if let existing = try await store.user(email: email) { return .addressInUse(existing) }
            let time = now()
            let user = AuthUser(email: email, name: Accounts.storable(name?.trimmingCharacters(in: .whitespaces)).flatMap { $0.isEmpty ? nil : $0 }, now: time)
            let account = AuthAccount(key: key(userID: user.id), userID: user.id, type: .credentials, passwordHash: hash, createdAt: time)
            do {
                try await store.createUser(user, account: account)
            } catch AccountStoreError.emailInUse {
                // Another sign-up for the address won the race.
                guard let existing = try await store.user(email: email) else { throw AuthError.unavailable.with(detail: "the sign-up raced another; try again") }
                return .addressInUse(existing)
            }
            return .created(user, try await issueVerification(email: email))
        }
    }

    /// Checks an address and password.
    ///
    /// - Parameters:
    ///   - email: The address.
    ///   - password: The password.
    ///   - client: The client's IP address, for its rate limit.
    /// - Returns: The user.
    /// - Throws: ``AuthError/invalidCredentials`` (unknown address, no password, wrong password: one answer, one
    ///   hash's time), ``AuthError/emailNotVerified`` (only once the password was right), ``AuthError/rateLimited``,
    ///   ``AuthError/serverBusy``, ``AuthError/unavailable``.
    public func signIn(email: String, password: String, client: String?) async throws -> AuthUser {
        guard let email = EmailAddress.normalized(email), !password.isEmpty, password.utf8.count <= 4096 else { throw AuthError.invalidCredentials }
        try await limit(client: client)
        try await limit(address: email, action: "signin")
        return try await storeErrors {
            guard let user = try await store.user(email: email), let account = try await store.account(key(userID: user.id)),
                let stored = account.passwordHash
            else {
                try await hasher.verifyNothing(password)
                throw AuthError.invalidCredentials
            }
            // The audit trail names whose password was tried (the answer does not).
            AuditRequest.note(userID: user.id)
            guard case .valid(let replacement) = try await hasher.verify(password, against: stored) else { throw AuthError.invalidCredentials }
            // A hash made with older parameters (or imported from bcrypt) is replaced, unless the password changed meanwhile.
            if let replacement { _ = try await store.replacePasswordHash(account.key, expected: stored, with: replacement) }
            if configuration.requiresVerifiedEmail, user.emailVerified == nil { throw AuthError.emailNotVerified }
            return user
        }
    }

    /// Whether a user has a password.
    ///
    /// - Parameter userID: The user.
    /// - Returns: `true` when the user has a password account with a hash.
    public func hasPassword(userID: String) async throws -> Bool {
        try await storeErrors { try await store.account(key(userID: userID))?.passwordHash != nil }
    }

    // MARK: Changing

    /// Changes a signed-in user's password, given the current one.
    ///
    /// - Parameters:
    ///   - userID: The signed-in user.
    ///   - current: The current password.
    ///   - new: The new password.
    /// - Throws: ``AuthError/invalidCredentials`` for a wrong current password (or none), ``AuthError/weakPassword``,
    ///   ``AuthError/rateLimited``, ``AuthError/serverBusy``, ``AuthError/unavailable``.
    public func changePassword(userID: String, current: String, new: String) async throws {
        try await limit(address: "user:" + userID, action: "change")
        try await checkPolicy(new)
        try await storeErrors {
            guard let account = try await store.account(key(userID: userID)), let stored = account.passwordHash else {
                try await hasher.verifyNothing(current)
                throw AuthError.invalidCredentials
            }
            guard case .valid = try await hasher.verify(current, against: stored) else { throw AuthError.invalidCredentials }
            let hash = try await hasher.hash(new)
            guard try await store.replacePasswordHash(account.key, expected: stored, with: hash) else {
                throw AuthError.unavailable.with(detail: "the password changed meanwhile; try again")
            }
        }
        await audit.record(.passwordChanged, userID: userID, provider: configuration.provider, detail: "change")
    }

    /// Sets a user's password without asking for the current one: the first password of a user who signed up
    /// another way, or a reset. Call it only after a recent sign-in (``SessionRequirement``) or a reset token.
    ///
    /// - Parameters:
    ///   - userID: The user.
    ///   - password: The new password.
    /// - Throws: ``AuthError/weakPassword``, ``AuthError/accessDenied`` when the user is gone,
    ///   ``AuthError/serverBusy``, ``AuthError/unavailable``.
    public func setPassword(userID: String, password: String) async throws {
        try await checkPolicy(password)
        let hash = try await hasher.hash(password)
        try await storeErrors { try await setHash(hash, userID: userID, whenUserIsGone: AuthError.accessDenied.with(detail: "the user no longer exists")) }
        await audit.record(.passwordChanged, userID: userID, provider: configuration.provider, detail: "set")
    }

    // MARK: Resetting

    /// Starts a password reset: a single-use token (its hash stored, valid for ``Configuration/resetLifetime``)
    /// for the address's user, replacing any earlier one.
    ///
    /// - Parameters:
    ///   - email: The address.
    ///   - client: The client's IP address, for its rate limit.
    /// - Returns: The reset to deliver, or `nil` for an address nobody has (answer both alike).
    /// - Throws: ``AuthError/invalidRequest`` for an address that is not deliverable, ``AuthError/rateLimited``,
    ///   ``AuthError/unavailable``.
    public func requestReset(email: String, client: String?) async throws -> PasswordReset? {
        let email = try await admit(email: email, client: client, action: "reset")
        return try await issueReset(email: email)
    }

    /// The checks of a request that sends a message (a reset, a verification) that answer the requester: the
    /// address and the limits. What follows them is the same for every address and may run after the response.
    ///
    /// - Parameters:
    ///   - email: The address as given.
    ///   - client: The client's IP address, for its rate limit.
    ///   - action: The per-address bucket (`reset`, `verify-request`).
    /// - Returns: The normalised address.
    func admit(email: String, client: String?, action: String) async throws -> String {
        let email = try Self.address(email)
        try await limit(client: client)
        try await limit(address: email, action: action)
        return email
    }

    /// Issues a reset for a normalised address's user, if any (no limits: see ``admit(email:client:action:)``).
    func issueReset(email: String) async throws -> PasswordReset? {
        try await storeErrors {
            guard let user = try await store.user(email: email) else { return nil }
            let identifier = Self.resetIdentifier(userID: user.id)
            try await store.deleteVerificationTokens(identifier: identifier)
            let (token, record) = VerificationToken.make(identifier: identifier, purpose: Self.resetPurpose, lifetime: configuration.resetLifetime, now: now())
            try await store.createVerificationToken(record)
            return PasswordReset(user: user, token: token)
        }
    }

    /// Whether a reset link's parts are well formed (a user ID, a 32-byte base64url token): checked before the
    /// new-password form is shown and before anything is hashed. It reads no store: only the reset itself uses
    /// the token.
    ///
    /// - Parameters:
    ///   - userID: The user the link names.
    ///   - token: The link's token.
    /// - Returns: `true` when the link could be one Sesame made.
    public func isWellFormedResetLink(userID: String, token: String) -> Bool {
        !userID.isEmpty && userID.utf8.count <= 128 && token.utf8.count == 43 && Base64URL.decode(token)?.count == 32
    }

    /// Completes a reset: uses the token once, sets the new password and marks the address verified (the link
    /// proved it). The caller ends the user's sessions; the next sign-in still asks for a second factor.
    ///
    /// - Parameters:
    ///   - userID: The user the link names.
    ///   - token: The link's token.
    ///   - password: The new password.
    ///   - client: The client's IP address, for its rate limit.
    /// - Returns: The user.
    /// - Throws: ``AuthError/weakPassword`` (the token is not used up), ``AuthError/invalidVerification``,
    ///   ``AuthError/rateLimited``, ``AuthError/serverBusy``, ``AuthError/unavailable``.
    public func reset(userID: String, token: String, password: String, client: String?) async throws -> AuthUser {
        try await limit(client: client)
        guard isWellFormedResetLink(userID: userID, token: token) else { throw AuthError.invalidVerification }
        try await checkPolicy(password)
        let hash = try await hasher.hash(password)
        let user = try await storeErrors {
            guard try await store.useVerificationToken(
                identifier: Self.resetIdentifier(userID: userID), tokenHash: VerificationToken.hash(token), purpose: Self.resetPurpose, now: now()) != nil,
                let user = try await store.user(id: userID)
            else { throw AuthError.invalidVerification }
            try await setHash(hash, userID: userID, whenUserIsGone: AuthError.invalidVerification)
            return try await markVerified(user)
        }
        await audit.record(.passwordChanged, userID: userID, provider: configuration.provider, detail: "reset")
        return user
    }

    /// Sets a user's password hash: replaces it by compare-and-swap, or links a password account when the user has
    /// none (a conflict with a concurrent writer is tried again).
    private func setHash(_ hash: String, userID: String, whenUserIsGone gone: AuthError) async throws {
        let key = key(userID: userID)
        for _ in 0..<3 {
            if let account = try await store.account(key) {
                if try await store.replacePasswordHash(key, expected: account.passwordHash, with: hash) { return }
                continue
            }
            do {
                guard try await store.linkAccount(AuthAccount(key: key, userID: userID, type: .credentials, passwordHash: hash, createdAt: now())) else {
                    throw gone
                }
                return
            } catch AccountStoreError.accountInUse {
                continue
            }
        }
        throw AuthError.unavailable.with(detail: "the password kept changing; try again")
    }

    // MARK: Email verification

    /// Issues a new verification for a user's unverified address (the old one stops working).
    ///
    /// - Parameters:
    ///   - email: The address.
    ///   - client: The client's IP address, for its rate limit.
    /// - Returns: The verification to deliver, or `nil` when no user has the address unverified (answer both alike).
    /// - Throws: ``AuthError/invalidRequest``, ``AuthError/rateLimited``, ``AuthError/unavailable``.
    public func requestVerification(email: String, client: String?) async throws -> EmailVerification? {
        let email = try await admit(email: email, client: client, action: "verify-request")
        return try await issueVerificationIfUnverified(email: email)
    }

    /// Issues a new verification for a normalised address whose user is unverified, if any.
    func issueVerificationIfUnverified(email: String) async throws -> EmailVerification? {
        try await storeErrors {
            guard let user = try await store.user(email: email), user.emailVerified == nil else { return nil }
            return try await issueVerification(email: email)
        }
    }

    /// Verifies an address by its link's token.
    ///
    /// - Returns: The user, now verified.
    /// - Throws: ``AuthError/invalidVerification``, ``AuthError/rateLimited``, ``AuthError/unavailable``.
    public func verifyEmail(_ email: String, token: String) async throws -> AuthUser {
        guard let email = EmailAddress.normalized(email), token.utf8.count <= 64 else { throw AuthError.invalidVerification }
        try await limit(address: email, action: "verify")
        return try await verify(email: email, hash: VerificationToken.hash(token), purpose: Self.verifyLinkPurpose)
    }

    /// Verifies an address by its 8-digit code.
    ///
    /// - Returns: The user, now verified.
    /// - Throws: ``AuthError/invalidVerification``, ``AuthError/rateLimited`` (5 tries, then one a minute),
    ///   ``AuthError/unavailable``.
    public func verifyEmail(_ email: String, code: String) async throws -> AuthUser {
        guard let email = EmailAddress.normalized(email) else { throw AuthError.invalidVerification }
        try await limit(address: email, action: "verify")
        let digits = code.filter { !$0.isWhitespace && $0 != "-" }
        guard digits.count == 8, digits.allSatisfy(\.isASCIIDigitCharacter) else { throw AuthError.invalidVerification }
        return try await verify(email: email, hash: Self.codeHash(digits, email: email), purpose: Self.verifyCodePurpose)
    }

    private func verify(email: String, hash: [UInt8], purpose: String) async throws -> AuthUser {
        try await storeErrors {
            let identifier = Self.verifyIdentifier(email: email)
            guard try await store.useVerificationToken(identifier: identifier, tokenHash: hash, purpose: purpose, now: now()) != nil,
                let user = try await store.user(email: email)
            else { throw AuthError.invalidVerification }
            // Link and code are one verification: using either ends both.
            try await store.deleteVerificationTokens(identifier: identifier)
            return try await markVerified(user)
        }
    }

    /// The user with their address marked verified now (written only when it was not verified yet).
    private func markVerified(_ user: AuthUser) async throws -> AuthUser {
        guard user.emailVerified == nil else { return user }
        var user = user
        user.emailVerified = now().wholeMilliseconds
        user.updatedAt = user.emailVerified!
        _ = try await store.updateUser(user)
        return user
    }

    private func issueVerification(email: String) async throws -> EmailVerification {
        let identifier = Self.verifyIdentifier(email: email)
        try await store.deleteVerificationTokens(identifier: identifier)
        let time = now()
        let (token, link) = VerificationToken.make(identifier: identifier, purpose: Self.verifyLinkPurpose, lifetime: configuration.verificationLifetime, now: time)
        let code = String(format: "%08d", UInt32.random(in: 0..<100_000_000))
        let codeRecord = VerificationToken(
            identifier: identifier, tokenHash: Self.codeHash(code, email: email), expiresAt: time.addingTimeInterval(configuration.verificationLifetime),
            purpose: Self.verifyCodePurpose)
        try await store.createVerificationToken(link)
        try await store.createVerificationToken(codeRecord)
        return EmailVerification(email: email, token: token, code: code)
    }

    // MARK: Helpers

    static func verifyIdentifier(email: String) -> String { "verify-email:" + email }
    static func resetIdentifier(userID: String) -> String { "password-reset:" + userID }

    /// A code's stored hash, bound to its address.
    static func codeHash(_ code: String, email: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("sesame-email-code\u{0}\(email)\u{0}\(code)".utf8)))
    }

    static func address(_ text: String) throws -> String {
        guard let email = EmailAddress.normalized(text) else { throw AuthError.invalidRequest.with(detail: "a valid email address is required") }
        return email
    }

    private func checkPolicy(_ password: String) async throws {
        let violation: PasswordPolicy.Violation? = if let breaches = configuration.breaches {
            await configuration.policy.violation(of: password, checking: breaches)
        } else {
            configuration.policy.violation(of: password)
        }
        if let violation { throw violation.authError }
    }

    private func limit(client: String?) async throws {
        guard let client else { return }
        try await configuration.perClient.take("password-client:" + RateLimitKey.client(client))
    }

    private func limit(address: String, action: String) async throws {
        try await configuration.perAddress.take("password-\(action):" + RateLimitKey.address(address))
    }

    /// Runs store work, with a store that cannot be reached as ``AuthError/unavailable``.
    private func storeErrors<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await AuthError.mappingStoreErrors(body)
    }
}

extension Character {
    /// `0` to `9` only (not other scripts' digits).
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
