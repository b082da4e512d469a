import Crypto
import Foundation
import _CryptoExtras

/// Hashes and verifies passwords with scrypt, on a ``PasswordHashingQueue``.
///
/// A password is normalised (Unicode NFKC, as NIST SP 800-63B asks) before it is hashed, so the same password typed
/// on two keyboards matches. Hashes are stored as PHC strings (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`) with a 16-byte
/// random salt and a 32-byte hash; verification compares in constant time and tells the caller when a hash made with
/// other parameters should be replaced.
///
/// ```swift
/// let hasher = ScryptPasswordHasher()
/// let stored = try await hasher.hash("correct horse battery staple")
/// switch try await hasher.verify("correct horse battery staple", against: stored) {
/// case .valid(let replacement): if let replacement { /* store it instead */ }
/// case .invalid: /* refuse */
/// }
/// ```
public struct ScryptPasswordHasher: Sendable {
    /// The parameters new hashes are made with.
    public var parameters: ScryptParameters
    /// Where hashes are computed.
    public let queue: PasswordHashingQueue

    /// The random salt's length in bytes.
    static let saltLength = 16
    /// The hash's length in bytes.
    static let hashLength = 32

    /// Creates a hasher.
    ///
    /// - Parameters:
    ///   - parameters: scrypt's cost (default: OWASP's, `N = 2^17, r = 8, p = 1`).
    ///   - queue: Where hashes are computed (default: ``PasswordHashingQueue/shared``).
    public init(parameters: ScryptParameters = .owasp, queue: PasswordHashingQueue = .shared) {
        precondition(parameters.isWithinLimits, "scrypt parameters out of range")
        self.parameters = parameters
        self.queue = queue
    }

    /// What a verification found.
    public enum Verification: Sendable, Equatable {
        /// The password matches. `replacement` is a hash of it with the current parameters when the stored one was
        /// made with others: store it instead.
        case valid(replacement: String?)
        /// The password does not match, or the stored string is not a hash Sesame can check.
        case invalid
    }

    /// Hashes a password (normalised first) with a new random salt.
    ///
    /// - Parameter password: The password.
    /// - Returns: The string to store.
    /// - Throws: ``AuthError/serverBusy`` when the hashing queue is full.
    public func hash(_ password: String) async throws -> String {
        let salt = (0..<Self.saltLength).map { _ in UInt8.random(in: .min ... .max) }
        let bytes = Array(Self.normalized(password).utf8)
        let parameters = parameters
        let hash = try await queue.run { try Self.derive(bytes, salt: salt, parameters: parameters, length: Self.hashLength) }
        return PasswordHashString(parameters: parameters, salt: salt, hash: hash).encoded
    }

    /// Checks a password against a stored hash.
    ///
    /// - Parameters:
    ///   - password: The password given.
    ///   - stored: The stored hash.
    /// - Returns: ``Verification/valid(replacement:)`` or ``Verification/invalid`` (also for a stored string that
    ///   is neither an scrypt hash within limits nor a bcrypt hash: nothing is computed for it). A bcrypt hash
    ///   (`$2a$`, `$2b$`, `$2y$`, as Vapor's and Hummingbird's `Bcrypt` write them, cost at most 16) is checked
    ///   against the password's UTF-8 as typed and, when it matches, always asks to be replaced.
    /// - Throws: ``AuthError/serverBusy`` when the hashing queue is full.
    public func verify(_ password: String, against stored: String) async throws -> Verification {
        if let imported = BcryptHash(parsing: stored) {
            // Imported from Vapor's or Hummingbird's bcrypt, which hashed the UTF-8 as typed (not normalised):
            // checked as it was made, then replaced by scrypt.
            let bytes = Array(password.utf8)
            guard try await queue.run({ imported.matches(bytes) }) else { return .invalid }
            return .valid(replacement: try await hash(password))
        }
        guard let record = PasswordHashString(parsing: stored) else { return .invalid }
        let bytes = Array(Self.normalized(password).utf8)
        let computed = try await queue.run { try Self.derive(bytes, salt: record.salt, parameters: record.parameters, length: record.hash.count) }
        guard ConstantTime.equals(computed, record.hash) else { return .invalid }
        guard record.parameters != parameters || record.salt.count != Self.saltLength || record.hash.count != Self.hashLength else {
            return .valid(replacement: nil)
        }
        return .valid(replacement: try await hash(password))
    }

    /// Spends what a verification with the current parameters costs, for a sign-in whose account does not exist,
    /// so that its answer takes as long as a wrong password's.
    ///
    /// - Parameter password: The password given.
    /// - Throws: ``AuthError/serverBusy`` when the hashing queue is full.
    public func verifyNothing(_ password: String) async throws {
        let salt = [UInt8](repeating: 0, count: Self.saltLength)
        let bytes = Array(Self.normalized(password).utf8), parameters = parameters
        _ = try await queue.run { try Self.derive(bytes, salt: salt, parameters: parameters, length: Self.hashLength) }
    }

    /// The password after Unicode NFKC normalisation (NIST SP 800-63B), as it is checked and hashed.
    static func normalized(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping
    }

    /// scrypt (RFC 7914).
    static func derive(_ password: [UInt8], salt: [UInt8], parameters: ScryptParameters, length: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: password, salt: salt, outputByteCount: length, rounds: 1 << parameters.logN, blockSize: parameters.blockSize,
            parallelism: parameters.parallelism, maxMemory: parameters.memoryBytes + (1 << 20))
        return key.withUnsafeBytes { Array($0) }
    }
}
