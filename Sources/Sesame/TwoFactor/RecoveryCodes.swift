import Crypto

/// One-time recovery codes: the way back in when the authenticator is lost.
///
/// A set is 10 codes of 80 random bits each, shown once as `xxxx-xxxx-xxxx-xxxx` (base32, lower case) and stored
/// as their SHA-256 hashes (80 bits of entropy make a slow hash unnecessary: no dictionary helps, and 2^80 guesses
/// are out of reach). Typed codes are matched ignoring case, spaces and dashes. Each code works once: the app
/// removes the matched hash in the same write that signs the person in; generating a new set replaces the old one.
public enum RecoveryCodes {
    /// Codes per set.
    public static let count = 10
    /// Random bytes per code (80 bits).
    static let byteCount = 10

    /// A new set: the codes to show once, and the hashes to store, in the same order.
    public static func generate() -> (codes: [String], hashes: [[UInt8]]) {
        var generator = SystemRandomNumberGenerator()
        let codes = (0..<count).map { _ -> String in
            let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let text = Base32Text.encode(bytes).lowercased()  // 16 characters
            return stride(from: 0, to: 16, by: 4).map { start -> Substring in
                let from = text.index(text.startIndex, offsetBy: start)
                return text[from..<text.index(from, offsetBy: 4)]
            }.joined(separator: "-")
        }
        return (codes, codes.map { hash(normalized($0)!) })
    }

    /// The position of the stored hash a typed code matches, or `nil`. Every stored hash is compared, in constant
    /// time, whatever matches.
    ///
    /// - Parameters:
    ///   - typed: What the person typed.
    ///   - hashes: The stored hashes of the codes not used yet.
    public static func match(_ typed: String, hashes: [[UInt8]]) -> Int? {
        guard let code = normalized(typed) else { return nil }
        let candidate = hash(code)
        var found: Int? = nil
        for (index, stored) in hashes.enumerated() where ConstantTime.equals(candidate, stored) && found == nil {
            found = index
        }
        return found
    }

    /// The code's 16 base32 characters, upper case, without separators; `nil` unless it is exactly that.
    static func normalized(_ typed: String) -> String? {
        let characters = typed.uppercased().filter { $0 != "-" && $0 != " " }
        guard characters.count == 16, Base32Text.decode(characters)?.count == byteCount else { return nil }
        return characters
    }

    static func hash(_ normalized: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(normalized.utf8)))
    }
}
