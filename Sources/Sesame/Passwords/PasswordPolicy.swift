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

        /// The refusal as an answer: ``AuthError/weakPassword`` with a description a person can act on.
        public var authError: AuthError {
            switch self {
            case .tooShort(let minimum): AuthError.weakPassword.with(detail: "use at least \(minimum) characters")
            case .tooLong(let maximum): AuthError.weakPassword.with(detail: "use at most \(maximum) characters")
            case .common: AuthError.weakPassword.with(detail: "this password is too common; choose another")
            }
        }
    }

    /// Checks a new password.
    ///
    /// - Parameter password: The password.
    /// - Returns: Why it is refused, or `nil` when it is acceptable.
    public func violation(of password: String) -> Violation? {
        let normalized = password.precomposedStringWithCompatibilityMapping
        let count = normalized.count
        if count < minimumLength { return .tooShort(minimum: minimumLength) }
        if count > maximumLength { return .tooLong(maximum: maximumLength) }
        if refusesCommonPasswords, CommonPasswords.contains(normalized) { return .common }
        return nil
    }
}
