import Foundation

/// What a new password must be, per NIST SP 800-63B: long enough, not absurdly long, and not a common password. No
/// composition rules (no "a digit and a symbol"), which make passwords harder to remember, not to guess.
public struct PasswordPolicy: Sendable {
    /// The fewest characters (after normalisation). Never below 8; 15 is NIST's advice when the password is the
    /// only factor.
    public var minimumLength: Int
    /// The most characters accepted (at least 64).
    public var maximumLength: Int
    /// Whether passwords on Sesame's list of common passwords are refused.
    public var refusesCommonPasswords: Bool

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - minimumLength: The fewest characters (default 8; values below 8 count as 8).
    ///   - maximumLength: The most characters (default 128; values below 64 count as 64).
    ///   - refusesCommonPasswords: Refuse the 11,611 most common passwords of 8 or more characters (default `true`).
    public init(minimumLength: Int = 8, maximumLength: Int = 128, refusesCommonPasswords: Bool = true) {
        self.minimumLength = max(8, minimumLength)
        self.maximumLength = max(64, maximumLength, self.minimumLength)
        self.refusesCommonPasswords = refusesCommonPasswords
    }

    /// Why a password was refused.
    public enum Violation: Error, Sendable, Equatable {
        /// Fewer characters than the minimum.
        case tooShort(minimum: Int)
        /// More characters than the maximum.
        case tooLong(maximum: Int)
        /// On the list of common passwords.
        case common
        /// Found in a breach corpus (``BreachedPasswordCheck``) this many times.
        case breached(count: Int)
        /// The breach corpus could not be asked, so the password was not accepted (fail closed).
        case breachCheckUnavailable

        /// The refusal as an answer: ``AuthError/weakPassword`` with a description a person can act on.
        public var authError: AuthError {
            switch self {
            case .tooShort(let minimum): AuthError.weakPassword.with(detail: "use at least \(minimum) characters")
            case .tooLong(let maximum): AuthError.weakPassword.with(detail: "use at most \(maximum) characters")
            case .common: AuthError.weakPassword.with(detail: "this password is too common; choose another")
            case .breached: AuthError.weakPassword.with(detail: "this password appears in known data breaches; choose another")
            case .breachCheckUnavailable: AuthError.unavailable.with(detail: "the password cannot be checked right now; try again shortly")
            }
        }
    }

    /// Checks a new password.
    ///
    /// - Parameter password: The password.
    /// - Returns: Why it is refused, or `nil` when it is acceptable.
    public func violation(of password: String) -> Violation? {
        violation(ofNormalized: ScryptPasswordHasher.normalized(password))
    }

    /// The local checks, on a password already normalised.
    private func violation(ofNormalized normalized: String) -> Violation? {
        let count = normalized.count
        if count < minimumLength { return .tooShort(minimum: minimumLength) }
        if count > maximumLength { return .tooLong(maximum: maximumLength) }
        if refusesCommonPasswords, CommonPasswords.contains(normalized) { return .common }
        return nil
    }

    /// Checks a new password, then asks a breach corpus about it.
    ///
    /// - Parameters:
    ///   - password: The password.
    ///   - breaches: The corpus (``PwnedPasswordsRange``, or another).
    /// - Returns: Why it is refused (``Violation/breachCheckUnavailable`` when the corpus cannot be asked), or `nil`.
    public func violation(of password: String, checking breaches: some BreachedPasswordCheck) async -> Violation? {
        let normalized = ScryptPasswordHasher.normalized(password)
        if let violation = violation(ofNormalized: normalized) { return violation }
        do {
            let count = try await breaches.breachCount(of: normalized)
            return count > 0 ? .breached(count: count) : nil
        } catch {
            return .breachCheckUnavailable
        }
    }
}
