import Crypto
import _CryptoExtras

/// A public key that verifies WebAuthn signatures, whichever structure it came from (a COSE credential key or
/// an attestation certificate), bound to one ``COSEAlgorithm``.
///
/// Verification never throws and never traps: signature bytes that do not parse are simply not valid.
enum PasskeyVerificationKey: Sendable {
    /// ES256: ECDSA over P-256 with SHA-256, DER signatures.
    case p256(P256.Signing.PublicKey)
    /// EdDSA over Ed25519, 64-byte signatures.
    case ed25519(Curve25519.Signing.PublicKey)
    /// RS256: RSASSA-PKCS1-v1_5 with SHA-256.
    case rsa(_RSA.Signing.PublicKey)

    /// The smallest RSA modulus accepted, in bits.
    static let minimumRSABits = 2048
    /// The largest RSA modulus accepted, in bits: a cap on the verification cost an input can cause.
    static let maximumRSABits = 8192

    /// The algorithm the key verifies.
    var algorithm: COSEAlgorithm {
        switch self {
        case .p256: return .es256
        case .ed25519: return .edDSA
        case .rsa: return .rs256
        }
    }

    /// Whether `signature` is a valid signature over `data` under this key and its algorithm.
    ///
    /// - Parameters:
    ///   - signature: The signature bytes as WebAuthn carries them (DER for ES256, raw otherwise).
    ///   - data: The signed bytes.
    /// - Returns: `true` only when the signature parses and verifies.
    func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        switch self {
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: data)
        case .ed25519(let key):
            guard signature.count == 64 else { return false }
            return key.isValidSignature(signature, for: data)
        case .rsa(let key):
            // PKCS#1 v1.5 signatures are exactly as long as the modulus; BoringSSL checks that too.
            guard signature.count == (key.keySizeInBits + 7) / 8 else { return false }
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: data, padding: .insecurePKCS1v1_5)
        }
    }
}
