import Crypto
import _CryptoExtras

/// A passkey's credential public key: a COSE_Key (RFC 9052 §7, RFC 9053) as WebAuthn §5.8.5 restricts it.
///
/// Three shapes are accepted, each with exactly its required parameters (WebAuthn forbids optional ones such
/// as `kid`), in CTAP2 canonical CBOR:
///
/// | `alg` (3)      | `kty` (1) | parameters                                                     |
/// |----------------|-----------|----------------------------------------------------------------|
/// | -7 ES256       | 2 EC2     | `crv` (-1) = 1 (P-256), `x` (-2) and `y` (-3): 32 bytes each  |
/// | -8 EdDSA       | 1 OKP     | `crv` (-1) = 6 (Ed25519), `x` (-2): 32 bytes                  |
/// | -257 RS256     | 3 RSA     | `n` (-1): 2048-8192 bits, `e` (-2): odd, > 1, at most 64 bits |
///
/// Integers in `n` and `e` must be minimal (no leading zero byte, RFC 8230 §4). EC2 points must be on the curve.
/// Ed25519 keys are checked for length only: small-order points are not screened out. Signatures for such a key
/// can be forged by anyone, but no authenticator makes one, so it only weakens an account that chose to register
/// it.
/// The original encoding is kept in ``bytes``: it is what a relying party stores, and two keys are equal when
/// their bytes are.
public struct COSEKey: Sendable, Hashable {
    /// The signature algorithm the key is bound to (its `alg` parameter).
    public let algorithm: COSEAlgorithm
    /// The key's CBOR encoding exactly as it was received.
    public let bytes: [UInt8]
    /// The parsed key.
    let verificationKey: PasskeyVerificationKey

    /// Parses a COSE_Key from its CBOR encoding.
    ///
    /// - Parameter bytes: Exactly one CBOR map, nothing before or after it.
    /// - Throws: ``WebAuthnDataError``: ``WebAuthnDataError/Code/malformedCBOR`` when the bytes are not one
    ///   canonical CBOR map; ``WebAuthnDataError/Code/unsupportedAlgorithm`` when `alg` is not -7, -8 or -257;
    ///   ``WebAuthnDataError/Code/invalidPublicKey`` for a missing, extra or inconsistent parameter or a key
    ///   that is not valid (a point off the curve, an RSA modulus out of range).
    public init(bytes: [UInt8]) throws(WebAuthnDataError) {
        let value: CBORValue
        do {
            value = try CBORValue.decode(bytes)
        } catch {
            throw WebAuthnDataError(error, decoding: "credential public key")
        }
        try self.init(value: value, bytes: bytes)
    }

    /// Parses a COSE_Key that was already decoded, keeping `bytes` as its encoding.
    ///
    /// - Parameters:
    ///   - value: The decoded key.
    ///   - bytes: The encoding `value` was decoded from.
    init(value: CBORValue, bytes: [UInt8]) throws(WebAuthnDataError) {
        guard let entries = value.mapEntries else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "a COSE key must be a CBOR map")
        }
        // Labels as integers; a text label or a label outside Int's range is never one WebAuthn allows.
        var labels: [Int] = []
        labels.reserveCapacity(entries.count)
        for entry in entries {
            guard let label = entry.key.int else {
                throw WebAuthnDataError(.invalidPublicKey, detail: "COSE key labels must be integers")
            }
            labels.append(label)
        }

        guard let algorithmValue = value[3] else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "the COSE key has no alg (3) parameter")
        }
        guard let identifier = algorithmValue.int else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "the COSE key's alg (3) is not an integer")
        }
        guard let algorithm = COSEAlgorithm(rawValue: identifier) else {
            throw WebAuthnDataError(
                .unsupportedAlgorithm, detail: "COSE algorithm \(identifier) is not supported (only -7, -8, -257)")
        }

        let expectedKeyType: Int
        let allowedLabels: Set<Int>
        switch algorithm {
        case .es256:
            expectedKeyType = 2
            allowedLabels = [1, 3, -1, -2, -3]
        case .edDSA:
            expectedKeyType = 1
            allowedLabels = [1, 3, -1, -2]
        case .rs256:
            expectedKeyType = 3
            allowedLabels = [1, 3, -1, -2]
        }
        for label in labels where !allowedLabels.contains(label) {
            throw WebAuthnDataError(
                .invalidPublicKey, detail: "COSE key parameter \(label) is not allowed for alg \(identifier)")
        }
        guard let keyType = value[1]?.int else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "the COSE key has no integer kty (1) parameter")
        }
        guard keyType == expectedKeyType else {
            throw WebAuthnDataError(
                .invalidPublicKey, detail: "kty \(keyType) does not match alg \(identifier) (expects kty \(expectedKeyType))")
        }

        switch algorithm {
        case .es256:
            try Self.requireCurve(value, 1, name: "P-256")
            let x = try Self.requireBytes(value, -2, name: "x", count: 32)
            let y = try Self.requireBytes(value, -3, name: "y", count: 32)
            var uncompressed: [UInt8] = [0x04]
            uncompressed.reserveCapacity(65)
            uncompressed.append(contentsOf: x)
            uncompressed.append(contentsOf: y)
            guard let key = try? P256.Signing.PublicKey(x963Representation: uncompressed) else {
                throw WebAuthnDataError(.invalidPublicKey, detail: "the EC2 point is not on P-256")
            }
            verificationKey = .p256(key)
        case .edDSA:
            try Self.requireCurve(value, 6, name: "Ed25519")
            let x = try Self.requireBytes(value, -2, name: "x", count: 32)
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
                throw WebAuthnDataError(.invalidPublicKey, detail: "the OKP key is not a valid Ed25519 public key")
            }
            verificationKey = .ed25519(key)
        case .rs256:
            guard let modulus = value[-1]?.bytes, let exponent = value[-2]?.bytes else {
                throw WebAuthnDataError(.invalidPublicKey, detail: "n (-1) and e (-2) must be byte strings")
            }
            try Self.checkRSAParameters(modulus: modulus, exponent: exponent)
            guard let key = try? _RSA.Signing.PublicKey(n: modulus, e: exponent) else {
                throw WebAuthnDataError(.invalidPublicKey, detail: "the RSA parameters do not form a valid public key")
            }
            verificationKey = .rsa(key)
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Whether `signature` is a valid signature over `data` by this key under its ``algorithm``.
    ///
    /// WebAuthn's signature encodings are expected: ASN.1 DER `Ecdsa-Sig-Value` for ES256, 64 raw bytes for
    /// EdDSA, and a modulus-length RSASSA-PKCS1-v1_5 (SHA-256) signature for RS256. For an assertion, `data` is
    /// `authenticatorData || SHA-256(clientDataJSON)`.
    ///
    /// - Parameters:
    ///   - signature: The signature bytes.
    ///   - data: The signed bytes.
    /// - Returns: `true` only when the signature parses and verifies; malformed signatures are `false`, never an
    ///   error or a trap.
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        verificationKey.isValidSignature(signature, for: data)
    }

    /// Whether two keys have the same encoding.
    ///
    /// - Parameters:
    ///   - lhs: A key.
    ///   - rhs: Another key.
    /// - Returns: `true` when ``bytes`` are equal.
    public static func == (lhs: COSEKey, rhs: COSEKey) -> Bool { lhs.bytes == rhs.bytes }

    /// Hashes ``bytes``.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    private static func requireCurve(_ key: CBORValue, _ curve: Int, name: String) throws(WebAuthnDataError) {
        guard let value = key[-1] else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "the COSE key has no crv (-1) parameter")
        }
        guard value.int == curve else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "crv must be \(curve) (\(name)) for this alg")
        }
    }

    private static func requireBytes(
        _ key: CBORValue, _ label: Int, name: String, count: Int
    ) throws(WebAuthnDataError) -> [UInt8] {
        guard let bytes = key[label]?.bytes else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "\(name) (\(label)) must be a byte string")
        }
        guard bytes.count == count else {
            throw WebAuthnDataError(
                .invalidPublicKey, detail: "\(name) (\(label)) must be \(count) bytes, found \(bytes.count)")
        }
        return bytes
    }

    /// Checks RSA public parameters as RFC 8230 §4 encodes them and Sesame accepts them: both minimal unsigned
    /// big-endian integers (no leading zero byte), a modulus of 2048 to 8192 bits, and an odd exponent greater
    /// than 1 of at most 64 bits. (BoringSSL checks most of this again when the key is built; this check comes
    /// first so the rules do not depend on the crypto backend.)
    ///
    /// - Parameters:
    ///   - modulus: `n`.
    ///   - exponent: `e`.
    /// - Throws: ``WebAuthnDataError/Code/invalidPublicKey``.
    static func checkRSAParameters(modulus: [UInt8], exponent: [UInt8]) throws(WebAuthnDataError) {
        guard let first = modulus.first, first != 0, let exponentFirst = exponent.first, exponentFirst != 0 else {
            throw WebAuthnDataError(
                .invalidPublicKey, detail: "n and e must be minimal unsigned integers (not empty, no leading zero)")
        }
        let bits = bitLength(modulus)
        guard bits >= PasskeyVerificationKey.minimumRSABits, bits <= PasskeyVerificationKey.maximumRSABits else {
            throw WebAuthnDataError(
                .invalidPublicKey,
                detail: "RSA modulus of \(bits) bits is outside \(PasskeyVerificationKey.minimumRSABits)-\(PasskeyVerificationKey.maximumRSABits)")
        }
        guard exponent.count <= 8 else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "the RSA exponent is longer than 64 bits")
        }
        guard let last = exponent.last, last & 1 == 1, exponent != [1] else {
            throw WebAuthnDataError(.invalidPublicKey, detail: "the RSA exponent must be odd and greater than 1")
        }
    }

    private static func bitLength(_ minimal: [UInt8]) -> Int {
        guard let first = minimal.first else { return 0 }
        return (minimal.count - 1) * 8 + (8 - first.leadingZeroBitCount)
    }
}
