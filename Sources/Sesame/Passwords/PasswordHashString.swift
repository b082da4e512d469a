import Foundation

/// A stored password hash in the PHC string format: `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`, salt and hash in
/// standard base64 without padding. Parsing is strict: one spelling per value, so a stored string either is a hash
/// Sesame wrote (or could have) or is refused.
struct PasswordHashString: Sendable, Hashable {
    let parameters: ScryptParameters
    let salt: [UInt8]
    let hash: [UInt8]

    /// The shortest salt and hash a stored string may have.
    static let minimumSaltLength = 8, minimumHashLength = 16
    /// The longest.
    static let maximumSaltLength = 64, maximumHashLength = 64

    init(parameters: ScryptParameters, salt: [UInt8], hash: [UInt8]) {
        self.parameters = parameters
        self.salt = salt
        self.hash = hash
    }

    /// Parses a stored string; `nil` for anything that is not exactly an scrypt PHC string within limits.
    init?(parsing string: String) {
        let fields = string.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[1] == "scrypt" else { return nil }
        let pairs = fields[2].split(separator: ",", omittingEmptySubsequences: false)
        guard pairs.count == 3 else { return nil }
        var values: [Int] = []
        for (pair, name) in zip(pairs, ["ln", "r", "p"]) {
            guard pair.hasPrefix(name + "="), let value = Self.canonicalInteger(pair.dropFirst(name.count + 1)) else { return nil }
            values.append(value)
        }
        let parameters = ScryptParameters(logN: values[0], blockSize: values[1], parallelism: values[2])
        guard parameters.isWithinLimits,
            let salt = Self.decode(fields[3]), (Self.minimumSaltLength...Self.maximumSaltLength).contains(salt.count),
            let hash = Self.decode(fields[4]), (Self.minimumHashLength...Self.maximumHashLength).contains(hash.count)
        else { return nil }
        self.init(parameters: parameters, salt: salt, hash: hash)
    }

    /// The string to store.
    var encoded: String {
        "$scrypt$ln=\(parameters.logN),r=\(parameters.blockSize),p=\(parameters.parallelism)$\(Self.encode(salt))$\(Self.encode(hash))"
    }

    /// A decimal integer with no sign, no leading zero and at most 9 digits.
    private static func canonicalInteger(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), text == "0" || text.first != "0" else { return nil }
        return Int(text)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Standard base64 without padding, canonical only (the unused low bits of the last character are zero).
    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.count % 4 != 1,
            text.utf8.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2B || $0 == 0x2F })
        else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        let bytes = [UInt8](data)
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}
