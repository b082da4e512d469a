import Foundation

/// Authenticator apps (TOTP) and recovery codes as a second factor, on an ``AccountStore``: enrolment confirmed
/// by a first code, verification with each code used once, recovery codes used once and replaced as a set.
///
/// ```swift
/// let factors = SecondFactors(store: store, keys: keys, issuer: "Example")
/// let pending = try factors.beginEnrolment(userID: user.id, account: user.email ?? user.id)
/// // show pending.qrSVG (or pending.uri), post pending.sealedSecret back with the first code:
/// let recoveryCodes = try await factors.confirmEnrolment(userID: user.id, sealedSecret: form["secret"], code: form["code"])
/// ```
///
/// Secrets are sealed at rest (AES-GCM under a key derived from the key set, bound to the user). Codes are limited
/// per user (default: 5 wrong codes, then one a minute), with no lock-out.
public struct SecondFactors: Sendable {
    /// An enrolment shown to the user, not stored yet.
    public struct PendingEnrolment: Sendable {
        /// The secret, sealed for the user, to post back with the first code (base64url).
        public let sealedSecret: String
        /// The `otpauth://` URI.
        public let uri: String
        /// The URI as a QR code, self-contained SVG.
        public let qrSVG: String
        /// The secret in base32, for typing into an app by hand.
        public let secretText: String
    }

    /// The store.
    public let store: any AccountStore
    /// The name authenticator apps show (the app's).
    public let issuer: String
    /// Code attempts per user.
    public let perUser: any RateLimiter
    /// Where enrolments and removals are recorded.
    let audit: AuditLog
    let keys: KeySet
    let now: @Sendable () -> Date

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - store: Where enrolments and recovery codes live.
    ///   - keys: The key set the secrets' sealing key is derived from (its active key must be private or secret).
    ///   - issuer: The app's name, shown in authenticator apps.
    ///   - perUser: Code attempts per user (default: 5 at once, then one a minute).
    ///   - audit: Where `factor_enrolled` and `factor_removed` are recorded (default: swift-log).
    ///   - now: The clock.
    public init(
        store: any AccountStore, keys: KeySet, issuer: String, perUser: any RateLimiter = MemoryRateLimiter(capacity: 5, refillInterval: 60),
        audit: AuditLog = AuditLog(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audit = audit
        self.store = store
        self.keys = keys
        self.issuer = issuer
        self.perUser = perUser
        self.now = now
    }

    /// Whether a user has an authenticator app enrolled.
    public func isEnrolled(userID: String) async throws -> Bool {
        try await storeErrors { try await store.totpEnrolment(userID: userID) != nil }
    }

    /// How many unused recovery codes a user has.
    public func recoveryCodesLeft(userID: String) async throws -> Int {
        try await storeErrors { try await store.recoveryCodeCount(userID: userID) }
    }

    /// A new secret to show (as a QR code and a URI); nothing is stored until ``confirmEnrolment(userID:sealedSecret:code:)``.
    ///
    /// - Parameters:
    ///   - userID: The signed-in user.
    ///   - account: The account name the app shows (the user's address).
    /// - Returns: The pending enrolment.
    public func beginEnrolment(userID: String, account: String) throws -> PendingEnrolment {
        let factor = TOTPFactor(secret: TOTPFactor.generateSecret())
        let uri = factor.uri(issuer: issuer, account: account)
        guard let qr = QRCode(uri) else { throw AuthError.invalidRequest.with(detail: "the issuer and account name are too long for a QR code") }
        return PendingEnrolment(
            sealedSecret: Base64URL.encode(try factor.sealed(with: keys, userID: userID)), uri: uri, qrSVG: qr.svg(), secretText: Base32Text.encode(factor.secret))
    }

    /// Enables the factor once the user typed a code their app shows for the pending secret; replaces any earlier
    /// enrolment and recovery codes.
    ///
    /// - Parameters:
    ///   - userID: The signed-in user (the secret is sealed for them alone).
    ///   - sealedSecret: ``PendingEnrolment/sealedSecret``, as posted back.
    ///   - code: The code the app shows.
    /// - Returns: The new recovery codes, to show once.
    /// - Throws: ``AuthError/invalidCode`` for a wrong code or a secret sealed for someone else,
    ///   ``AuthError/rateLimited``, ``AuthError/unavailable``.
    public func confirmEnrolment(userID: String, sealedSecret: String, code: String) async throws -> [String] {
        // Enrolment has a bucket of its own: typing the first code wrong does not hold up the next sign-in.
        try await perUser.take("totp-enrolment:" + userID)
        guard let sealed = Base64URL.decode(sealedSecret), let factor = TOTPFactor(sealed: sealed, keys: keys, userID: userID),
            let step = factor.verify(code, at: now(), after: nil)
        else { throw AuthError.invalidCode }
        let (codes, hashes) = RecoveryCodes.generate()
        // The confirming code's step counts as used: it cannot sign in again.
        let saved = try await storeErrors {
            try await store.saveTOTPEnrolment(TOTPEnrolment(userID: userID, sealedSecret: sealed, lastUsedStep: step, createdAt: now()), recoveryCodeHashes: hashes)
        }
        guard saved else { throw AuthError.accessDenied.with(detail: "the user no longer exists") }
        await audit.record(.factorEnrolled, userID: userID, detail: "totp")
        return codes
    }

    /// Checks a second-factor code: a 6-digit code from the app (each accepted once), or an unused recovery code
    /// (used up).
    ///
    /// - Parameters:
    ///   - userID: The user who passed the first factor.
    ///   - code: What they typed.
    /// - Returns: How the code was checked.
    /// - Throws: ``AuthError/invalidCode`` (wrong, used, or no enrolment), ``AuthError/rateLimited``,
    ///   ``AuthError/unavailable`` (also when the stored secret cannot be opened: fail closed).
    @discardableResult
    public func verify(userID: String, code: String) async throws -> Method {
        try await perUser.take("totp:" + userID)
        let typed = code.filter { !$0.isWhitespace }
        return try await storeErrors {
            guard let enrolment = try await store.totpEnrolment(userID: userID) else { throw AuthError.invalidCode }
            if let normalized = RecoveryCodes.normalized(typed) {
                guard try await store.useRecoveryCode(userID: userID, codeHash: RecoveryCodes.hash(normalized)) else { throw AuthError.invalidCode }
                return .recoveryCode
            }
            guard let factor = TOTPFactor(sealed: enrolment.sealedSecret, keys: keys, userID: userID) else {
                throw AuthError.unavailable.with(detail: "the second factor's secret cannot be opened with the current keys")
            }
            guard let step = factor.verify(typed, at: now(), after: enrolment.lastUsedStep),
                try await store.useTOTPStep(userID: userID, step: step)
            else { throw AuthError.invalidCode }
            return .authenticatorApp
        }
    }

    /// How a second-factor code was checked.
    public enum Method: String, Sendable {
        /// A code from the authenticator app.
        case authenticatorApp = "totp"
        /// A recovery code (now used up).
        case recoveryCode = "recovery"
    }

    /// Replaces a user's recovery codes (the old set stops working).
    ///
    /// - Returns: The new codes, to show once.
    /// - Throws: ``AuthError/notFound`` without an enrolment, ``AuthError/unavailable``.
    public func regenerateRecoveryCodes(userID: String) async throws -> [String] {
        let (codes, hashes) = RecoveryCodes.generate()
        guard try await storeErrors({ try await store.replaceRecoveryCodes(userID: userID, hashes: hashes) }) else {
            throw AuthError.notFound.with(detail: "no authenticator app is enrolled")
        }
        return codes
    }

    /// Turns the second factor off: the enrolment and recovery codes are deleted.
    ///
    /// - Returns: `false` when there was none.
    @discardableResult
    public func disable(userID: String) async throws -> Bool {
        guard try await storeErrors({ try await store.deleteTOTPEnrolment(userID: userID) }) else { return false }
        await audit.record(.factorRemoved, userID: userID, detail: "totp")
        return true
    }

    private func storeErrors<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await AuthError.mappingStoreErrors(body)
    }
}
