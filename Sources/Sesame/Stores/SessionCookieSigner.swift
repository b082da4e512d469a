import Crypto
import Foundation

/// Signs and checks the cookie of a store-backed session: `base64url(secret).base64url(HMAC-SHA-256(key, secret))`.
///
/// The secret is 256 random bits; the store knows only its SHA-256 (its store key). A cookie whose MAC
/// does not verify under any of the keys is refused before the store is asked anything. The first key signs;
/// all of them verify, so keys rotate by putting the new one first and keeping the old one until its cookies
/// have expired.
public struct SessionCookieSigner: Sendable {
    /// The MAC states of the keys, the signing one first (following a ``KeyRing``'s keys).
    private let macs: KeyDerived<[PrecomputedHMAC<SHA256>]>

    /// The generation of the keys (0 unless they come from a ``KeyRing``'s set).
    var keyGeneration: Int { macs.generation }

    /// The number of random bytes in a session secret.
    static let secretByteCount = 32

    /// Creates a signer from raw keys.
    ///
    /// - Parameter secrets: The keys, newest first.
    /// - Precondition: At least one key, each at least 32 bytes.
    public init(secrets: [[UInt8]]) {
        precondition(!secrets.isEmpty && secrets.allSatisfy { $0.count >= 32 }, "session cookie keys must be at least 32 bytes")
        macs = KeyDerived(fixed: secrets.map { PrecomputedHMAC<SHA256>(key: SymmetricKey(data: $0)) })
    }

    /// Creates a signer whose keys are derived (HKDF-SHA-256) from a key set's private and secret keys, the
    /// active key's first.
    ///
    /// With a ``KeyRing``'s set, the signer follows the ring: cookies are signed under its new active key once it is
    /// replaced, and a key it no longer holds verifies no cookie.
    ///
    /// - Parameter keys: The app's key set.
    /// - Precondition: The set holds at least one private or secret key.
    public init(keys: KeySet) {
        let purpose = "sesame/session-cookie/v1"
        precondition(!keys.derivedKeys(purpose: purpose).isEmpty, "session cookie keys need a private or secret key")
        macs = KeyDerived(from: keys) { keys in
            keys.derivedKeys(purpose: purpose).map { PrecomputedHMAC<SHA256>(key: SymmetricKey(data: $0)) }
        }
    }

    /// A new random session secret.
    static func newSecret() -> [UInt8] { RandomToken.bytes(secretByteCount) }

    /// The key a store files a session under: the lowercase hex SHA-256 of its secret.
    static func storeKey(for secret: [UInt8]) -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: secret) {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The cookie value for a secret, signed with the newest key.
    func cookieValue(for secret: [UInt8]) -> String {
        Base64URL.encode(secret) + "." + Base64URL.encode(secret.withUnsafeBytes { macs.value[0].authenticationCode(for: $0) })
    }

    /// The secret in a cookie value, or `nil` when the value is malformed or its MAC verifies under no key.
    func secret(fromCookie value: String) -> [UInt8]? {
        // 43 + 1 + 43 characters; anything else is not ours.
        guard value.utf8.count == 87 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let secret = Base64URL.decode(parts[0]), secret.count == Self.secretByteCount,
            let mac = Base64URL.decode(parts[1]), mac.count == 32
        else { return nil }
        var valid = false
        let keys = macs.value
        secret.withUnsafeBytes { message in
            for key in keys {
                // Every key is tried, so the time taken does not say which one matched.
                if ConstantTime.equals(key.authenticationCode(for: message), mac) { valid = true }
            }
        }
        return valid ? secret : nil
    }
}
