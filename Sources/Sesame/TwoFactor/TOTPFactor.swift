import Crypto
import Foundation

/// A time-based one-time password factor (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, as every authenticator
/// app computes them.
///
/// A code is accepted for the current step or one step either side (clocks drift), and never twice: the caller keeps
/// the last step a code was accepted for and passes it to the next verification, which refuses that step and every
/// earlier one.
///
/// ```swift
/// let factor = TOTPFactor(secret: TOTPFactor.generateSecret())
/// let uri = factor.uri(issuer: "Example", account: "ada@example.com")   // for the QR code
/// if let step = factor.verify("123456", at: Date(), after: lastUsedStep) { lastUsedStep = step }
/// ```
public struct TOTPFactor: Sendable {
    /// The shared secret.
    public let secret: [UInt8]
    /// Digits per code.
    public let digits: Int
    /// Seconds per step.
    public let period: Int
    private let mac: PrecomputedHMAC<Insecure.SHA1>

    /// The secret's length new factors get: 160 bits, RFC 4226's recommendation.
    public static let secretLength = 20

    /// Creates a factor.
    ///
    /// - Parameters:
    ///   - secret: The shared secret (at least 16 bytes; ``generateSecret()`` makes one of 20).
    ///   - digits: Digits per code, 6 to 8 (default 6).
    ///   - period: Seconds per step (default 30; at most 65,535).
    public init(secret: [UInt8], digits: Int = 6, period: Int = 30) {
        precondition(secret.count >= 16, "a TOTP secret has at least 128 bits")
        precondition((6...8).contains(digits) && (1...65_535).contains(period), "TOTP codes have 6 to 8 digits and a period of 1 to 65,535 seconds")
        self.secret = secret
        self.digits = digits
        self.period = period
        mac = PrecomputedHMAC(key: SymmetricKey(data: secret))
    }

    /// A new random secret of ``secretLength`` bytes from the system's CSPRNG.
    public static func generateSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<secretLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The step a moment falls in.
    public func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(period)).rounded(.down))
    }

    /// The code for a moment.
    public func code(at date: Date) -> String {
        code(step: step(at: date))
    }

    /// The code for a step (RFC 4226's truncation of HMAC-SHA-1 over the big-endian step counter).
    func code(step: Int64) -> String {
        let number = value(step: step)
        let text = String(number)
        return String(repeating: "0", count: digits - text.count) + text
    }

    private func value(step: Int64) -> UInt32 {
        let digest = withUnsafeBytes(of: UInt64(bitPattern: step).bigEndian) { mac.authenticationCode(for: $0) }
        let offset = Int(digest[digest.count - 1] & 0x0F)
        let binary = (UInt32(digest[offset] & 0x7F) << 24) | (UInt32(digest[offset + 1]) << 16) | (UInt32(digest[offset + 2]) << 8) | UInt32(digest[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        return binary % modulus
    }

    /// Checks a code: exactly ``digits`` ASCII digits, for the step of `date` or one step either side, and for a step
    /// after `lastUsedStep`.
    ///
    /// - Parameters:
    ///   - code: The code the person typed.
    ///   - date: Now.
    ///   - lastUsedStep: The step of the last code accepted for this factor, if any: it and earlier steps are refused.
    /// - Returns: The step the code is for (store it as the new `lastUsedStep`), or `nil` when it is refused.
    public func verify(_ code: String, at date: Date, after lastUsedStep: Int64?) -> Int64? {
        let typed = Array(code.utf8)
        guard typed.count == digits, typed.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let current = step(at: date)
        func matches(_ step: Int64) -> Bool { ConstantTime.equals(Array(self.code(step: step).utf8), typed) }
        // The current step first: a code typed in time costs one HMAC. Otherwise both neighbours are computed.
        let accepted: Int64?
        if matches(current) {
            accepted = current
        } else {
            let (earlier, later) = (matches(current - 1), matches(current + 1))
            accepted = earlier ? current - 1 : later ? current + 1 : nil
        }
        guard let accepted, accepted > (lastUsedStep ?? .min) else { return nil }
        return accepted
    }

    /// The factor's secret sealed for storage with the user's ID (AES-256-GCM under a key derived from the key set
    /// for TOTP secrets, the user's ID as associated data), with its digits and period.
    ///
    /// - Parameters:
    ///   - keys: The app's key set.
    ///   - userID: The user the factor belongs to.
    /// - Returns: Bytes to store; ``init(sealed:keys:userID:)`` opens them.
    public func sealed(with keys: KeySet, userID: String) throws -> [UInt8] {
        try PurposeSealer(keys: keys, purpose: Self.sealingPurpose).seal([UInt8(digits), UInt8(period >> 8 & 0xFF), UInt8(period & 0xFF)] + secret, for: [userID])
    }

    /// Opens a factor sealed by ``sealed(with:userID:)``; `nil` when the bytes do not open for this user under
    /// any key of the set, or do not hold a factor.
    public init?(sealed: [UInt8], keys: KeySet, userID: String) {
        guard let plain = PurposeSealer(keys: keys, purpose: Self.sealingPurpose).open(sealed, for: [userID]), plain.count >= 3 + 16,
            (6...8).contains(Int(plain[0]))
        else { return nil }
        let period = Int(plain[1]) << 8 | Int(plain[2])
        guard period > 0 else { return nil }
        self.init(secret: Array(plain[3...]), digits: Int(plain[0]), period: period)
    }

    private static let sealingPurpose = "sesame/totp-secrets/v1"

    /// The `otpauth://` URI an authenticator app reads from a QR code.
    ///
    /// - Parameters:
    ///   - issuer: The app's name, shown in the authenticator.
    ///   - account: The person's account name (their email address, typically).
    public func uri(issuer: String, account: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        let label = (issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + ":" + (account.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        return "otpauth://totp/\(label)?secret=\(Base32Text.encode(secret))&issuer=\(issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }
}
