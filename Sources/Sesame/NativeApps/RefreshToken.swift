import Crypto

/// A refresh token as the app holds it: `sr1.{family}.{secret}`, the family's ID (128 random bits) and a 256-bit
/// secret. Stores keep the secret's SHA-256 only.
struct RefreshToken: Sendable, Equatable {
    /// The family's ID, base64url (22 characters).
    let familyID: String
    /// The secret (32 bytes).
    let secret: [UInt8]

    private static let prefix = "sr1."

    /// A new token of a family.
    init(familyID: String) {
        self.familyID = familyID
        self.secret = RandomToken.bytes(32)
    }

    /// A new family's first token.
    static func newFamily() -> RefreshToken { RefreshToken(familyID: RandomToken.make(byteCount: 16)) }

    /// Parses a token; `nil` unless it has exactly the shape Sesame issues.
    init?(parsing text: String) {
        guard text.utf8.count == Self.prefix.utf8.count + 22 + 1 + 43, text.hasPrefix(Self.prefix) else { return nil }
        let parts = text.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 22, let family = Base64URL.decode(String(parts[0])), family.count == 16,
            Base64URL.encode(family) == parts[0], let secret = Base64URL.decode(String(parts[1])), secret.count == 32,
            Base64URL.encode(secret) == parts[1]
        else { return nil }
        self.familyID = String(parts[0])
        self.secret = secret
    }

    /// The text the app holds.
    var text: String { Self.prefix + familyID + "." + Base64URL.encode(secret) }

    /// What a store keeps of the secret.
    var secretHash: [UInt8] { Array(SHA256.hash(data: secret)) }

    /// Whether a string looks like a refresh token rather than an access token (for the revocation endpoint).
    static func looksLikeOne(_ text: String) -> Bool { text.hasPrefix(prefix) }
}
