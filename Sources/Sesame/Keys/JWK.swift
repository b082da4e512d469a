import Crypto
import Foundation
import _CryptoExtras

/// A key bound to one algorithm: the unit Sesame signs, verifies, encrypts and decrypts with.
///
/// A `JWK` holds public or private asymmetric material, or a symmetric secret, together with its key ID and
/// the single ``KeyAlgorithm`` it may be used with. Keys import from and export to JWK JSON (RFC 7517) and
/// PEM, and their default key ID is the RFC 7638 thumbprint.
public struct JWK: Sendable {
    /// The key's immutable parts, shared by copies: passing a key around costs one reference count.
    private final class Storage: Sendable {
        let keyID: String
        let algorithm: KeyAlgorithm
        let material: Material
        let hmacState: HMACState?

        init(keyID: String, algorithm: KeyAlgorithm, material: Material, hmacState: HMACState?) {
            self.keyID = keyID
            self.algorithm = algorithm
            self.material = material
            self.hmacState = hmacState
        }
    }

    private let storage: Storage

    /// The key ID (`kid`), by default the RFC 7638 thumbprint.
    public var keyID: String { storage.keyID }
    /// The only algorithm this key is used with.
    public var algorithm: KeyAlgorithm { storage.algorithm }
    var material: Material { storage.material }
    /// For HMAC keys, the MAC state with the key already absorbed (RFC 2104's inner and outer pads), so that
    /// each signature costs only the message's blocks.
    var hmacState: HMACState? { storage.hmacState }

    enum HMACState: Sendable {
        case sha256(PrecomputedHMAC<SHA256>)
        case sha384(PrecomputedHMAC<SHA384>)
        case sha512(PrecomputedHMAC<SHA512>)
    }

    enum Material: Sendable {
        case p256(P256.Signing.PublicKey, P256.Signing.PrivateKey?)
        case p384(P384.Signing.PublicKey, P384.Signing.PrivateKey?)
        case ed25519(Curve25519.Signing.PublicKey, Curve25519.Signing.PrivateKey?)
        case rsa(_RSA.Signing.PublicKey, _RSA.Signing.PrivateKey?)
        case symmetric(SymmetricKey)
    }

    init(material: Material, algorithm: KeyAlgorithm, keyID: String?) throws(TokenError) {
        try JWK.check(material, fits: algorithm)
        let hmacState: HMACState?
        switch (material, algorithm.base) {
        case (.symmetric(let key), .hs256): hmacState = .sha256(PrecomputedHMAC(key: key))
        case (.symmetric(let key), .hs384): hmacState = .sha384(PrecomputedHMAC(key: key))
        case (.symmetric(let key), .hs512): hmacState = .sha512(PrecomputedHMAC(key: key))
        default: hmacState = nil
        }
        storage = Storage(keyID: keyID ?? JWK.thumbprint(of: material), algorithm: algorithm, material: material, hmacState: hmacState)
    }

    /// The same key in new storage (with its own HMAC state), for a thread's replica of a key set.
    func replica() -> JWK {
        // The material fitted the algorithm when this key was made.
        try! JWK(material: material, algorithm: algorithm, keyID: keyID)
    }

    // MARK: Properties

    /// Whether the key can sign or encrypt (it holds private or secret material).
    public var isPrivate: Bool {
        switch material {
        case .p256(_, let privateKey): return privateKey != nil
        case .p384(_, let privateKey): return privateKey != nil
        case .ed25519(_, let privateKey): return privateKey != nil
        case .rsa(_, let privateKey): return privateKey != nil
        case .symmetric: return true
        }
    }

    /// Whether the key is a symmetric secret (HMAC or content encryption).
    public var isSymmetric: Bool {
        if case .symmetric = material { return true }
        return false
    }

    /// The public half of an asymmetric key, with the same key ID; `nil` for symmetric keys.
    public var publicKey: JWK? {
        let publicMaterial: Material
        switch material {
        case .p256(let publicKey, _): publicMaterial = .p256(publicKey, nil)
        case .p384(let publicKey, _): publicMaterial = .p384(publicKey, nil)
        case .ed25519(let publicKey, _): publicMaterial = .ed25519(publicKey, nil)
        case .rsa(let publicKey, _): publicMaterial = .rsa(publicKey, nil)
        case .symmetric: return nil
        }
        return try? JWK(material: publicMaterial, algorithm: algorithm, keyID: keyID)
    }

    /// The RFC 7638 SHA-256 thumbprint of the key's public (or, for symmetric keys, secret) members.
    public var thumbprint: String { JWK.thumbprint(of: material) }

    // MARK: Generation

    /// Generates a new random key for the given algorithm.
    ///
    /// RSA keys are 2048 bits; HMAC secrets have the hash's output size; content-encryption keys have the
    /// size the algorithm requires.
    ///
    /// - Parameters:
    ///   - algorithm: The algorithm to bind the key to. Defaults to ES256.
    ///   - keyID: The key ID; defaults to the RFC 7638 thumbprint.
    /// - Returns: The new private key.
    /// - Throws: ``TokenError/invalidKey`` if key generation fails.
    public static func generate(_ algorithm: KeyAlgorithm = .es256, keyID: String? = nil) throws(TokenError) -> JWK {
        let material: Material
        switch algorithm.base {
        case .es256:
            let key = P256.Signing.PrivateKey()
            material = .p256(key.publicKey, key)
        case .es384:
            let key = P384.Signing.PrivateKey()
            material = .p384(key.publicKey, key)
        case .edDSA:
            let key = Curve25519.Signing.PrivateKey()
            material = .ed25519(key.publicKey, key)
        case .rs256, .ps256:
            do {
                let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
                material = .rsa(key.publicKey, key)
            } catch {
                throw TokenError.invalidKey.with(detail: "RSA key generation failed")
            }
        case .hs256, .hs384, .hs512, .a256gcm, .a256cbcHS512:
            material = .symmetric(SymmetricKey(size: SymmetricKeySize(bitCount: algorithm.symmetricKeySize! * 8)))
        }
        return try JWK(material: material, algorithm: algorithm, keyID: keyID)
    }

    // MARK: Symmetric keys

    /// Creates a symmetric key (an HMAC secret or a content-encryption key) from raw bytes.
    ///
    /// HMAC secrets must be at least as long as the hash output (RFC 7518 §3.2); encryption keys must have
    /// exactly the algorithm's key size.
    ///
    /// - Parameters:
    ///   - bytes: The secret.
    ///   - algorithm: An HMAC or content-encryption algorithm.
    ///   - keyID: The key ID; defaults to the RFC 7638 thumbprint.
    /// - Throws: ``TokenError/invalidKey`` if the algorithm is asymmetric or the secret has the wrong size.
    public init(symmetricKey bytes: some Sequence<UInt8>, algorithm: KeyAlgorithm, keyID: String? = nil) throws(TokenError) {
        try self.init(material: .symmetric(SymmetricKey(data: Array(bytes))), algorithm: algorithm, keyID: keyID)
    }

    /// Creates an HMAC key from a text secret.
    ///
    /// Text that looks like a PEM document or a JWK is refused: using an asymmetric key's public material as
    /// an HMAC secret is the classic algorithm-confusion attack, and Sesame never does it.
    ///
    /// - Parameters:
    ///   - secret: The secret text (its UTF-8 bytes are the key).
    ///   - algorithm: HS256 (default), HS384 or HS512.
    ///   - keyID: The key ID; defaults to the RFC 7638 thumbprint.
    /// - Throws: ``TokenError/invalidKey`` if the secret is too short or looks like asymmetric key material.
    public init(hmacSecret secret: String, algorithm: KeyAlgorithm = .hs256, keyID: String? = nil) throws(TokenError) {
        guard algorithm.isHMAC else { throw TokenError.invalidKey.with(detail: "\(algorithm) is not an HMAC algorithm") }
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") || trimmed.hasPrefix("{") {
            throw TokenError.invalidKey.with(detail: "an HMAC secret must not be PEM or JWK key material")
        }
        try self.init(symmetricKey: Array(secret.utf8), algorithm: algorithm, keyID: keyID)
    }

    // MARK: Checks

    static func check(_ material: Material, fits algorithm: KeyAlgorithm) throws(TokenError) {
        let fits: Bool
        switch (material, algorithm.base) {
        case (.p256, .es256), (.p384, .es384), (.ed25519, .edDSA), (.rsa, .rs256), (.rsa, .ps256): fits = true
        case (.symmetric(let key), _):
            guard let size = algorithm.symmetricKeySize else { fits = false; break }
            if algorithm.isHMAC {
                guard key.bitCount / 8 >= size else {
                    throw TokenError.invalidKey.with(detail: "\(algorithm) needs a secret of at least \(size) bytes")
                }
            } else {
                guard key.bitCount / 8 == size else {
                    throw TokenError.invalidKey.with(detail: "\(algorithm) needs a key of exactly \(size) bytes")
                }
            }
            fits = true
        default: fits = false
        }
        if !fits { throw TokenError.invalidKey.with(detail: "this key type cannot be used with \(algorithm)") }
        if case .rsa(let publicKey, _) = material, publicKey.keySizeInBits < 2048 {
            throw TokenError.invalidKey.with(detail: "RSA keys must have at least 2048 bits")
        }
    }
}
