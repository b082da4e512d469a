import Crypto
import _CryptoExtras

/// JSON Web Signature (RFC 7515) in the compact serialization.
///
/// Verification is strict: the token's size is capped before any parsing, every segment must be canonical
/// base64url, the header must parse and have no unknown critical extensions, the key is selected by `kid`
/// only, and the key's own algorithm must be the one the header names. `alg: none` is never accepted.
public enum JWS {
    /// The default cap on token size: 8 KiB.
    public static let defaultMaximumSize = 8192

    /// A token whose signature verified.
    public struct Verified: Sendable {
        /// The protected header.
        public let header: JOSEHeader
        /// The payload bytes.
        public let payload: [UInt8]
        /// The key that verified the signature.
        public let key: JWK
    }

    /// Signs a payload.
    ///
    /// - Parameters:
    ///   - payload: The bytes to sign.
    ///   - key: A private (or HMAC) key; its algorithm and key ID go into the header.
    ///   - type: The `typ` header, if any.
    ///   - header: Further header members.
    /// - Returns: The compact serialization.
    /// - Throws: ``TokenError/invalidKey`` if the key cannot sign.
    public static func sign(_ payload: some Collection<UInt8>, key: JWK, type: String? = nil, header: JSONObject = [:]) throws(TokenError) -> String {
        guard key.algorithm.isSigning else { throw TokenError.invalidKey.with(detail: "\(key.algorithm) does not sign") }
        var output: [UInt8] = []
        output.reserveCapacity(payload.count * 4 / 3 + 200)
        Base64URL.appendEncoded(JOSEHeader.encode(algorithm: key.algorithm.name, keyID: key.keyID, type: type, extra: header), to: &output)
        output.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(payload, to: &output)
        let signature = try key.signature(for: output)
        output.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(signature, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Verifies a compact JWS.
    ///
    /// - Parameters:
    ///   - token: The compact serialization.
    ///   - keys: The accepted keys.
    ///   - maximumSize: The largest token accepted, in bytes, checked before parsing (default 8 KiB).
    ///   - understoodCriticalParameters: `crit` extensions the caller handles (default: none).
    /// - Returns: The header, payload and verifying key.
    /// - Throws: ``TokenError`` naming the first check that failed.
    public static func verify(
        _ token: String,
        keys: KeySet,
        maximumSize: Int = defaultMaximumSize,
        understoodCriticalParameters: Set<String> = []
    ) throws(TokenError) -> Verified {
        try token.withUTF8Buffer { bytes throws(TokenError) in
            let compact = try CompactToken(bytes, maximumSize: maximumSize)
            guard !compact.isJWE else { throw TokenError.malformedToken.with(detail: "expected a JWS, found a JWE") }
            return try verify(compact, keys: keys, understoodCriticalParameters: understoodCriticalParameters)
        }
    }

    static func verify(_ compact: CompactToken, keys: KeySet, understoodCriticalParameters: Set<String>) throws(TokenError) -> Verified {
        let header: JOSEHeader, key: JWK
        if let known = keys.knownHeader(compact.encoded(0), signing: true) {
            (header, key) = known
        } else {
            header = try JOSEHeader(decoded: compact.decoded(0), understoodCriticalParameters: understoodCriticalParameters)
            key = try selectKey(for: header, in: keys)
        }
        // Every segment must be strict base64url, whether or not the signature would catch a change.
        let payload = try compact.decoded(1)
        let encodedSignature = compact.encoded(2)
        guard let signatureCount = Base64URL.decodedCount(encodedSignature.count), signatureCount <= 1024 else {
            throw encodedSignature.count & 3 == 1 ? TokenError.invalidBase64URL : TokenError.invalidSignature
        }
        // The signature is only needed for the check: it is decoded into stack memory.
        let valid = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(signatureCount, 1)) { buffer -> Bool? in
            let signature = UnsafeMutableBufferPointer(rebasing: buffer[..<signatureCount])
            guard Base64URL.decode(encodedSignature, into: signature) else { return nil }
            return key.isValidSignature(UnsafeRawBufferPointer(signature), for: compact.signingInput)
        }
        guard let valid else { throw TokenError.invalidBase64URL }
        guard valid else { throw TokenError.invalidSignature }
        return Verified(header: header, payload: payload, key: key)
    }

    /// Chooses the key for a header: checks `alg`, selects by `kid`, and requires the key's own algorithm.
    static func selectKey(for header: JOSEHeader, in keys: KeySet) throws(TokenError) -> JWK {
        if header.algorithm.lowercased() == "none" { throw TokenError.algorithmNone }
        guard let algorithm = KeyAlgorithm(name: header.algorithm), algorithm.isSigning else {
            throw TokenError.unsupportedAlgorithm.with(detail: "alg \(header.algorithm)")
        }
        let key = try keys.key(forID: header.keyID)
        guard key.algorithm == algorithm else {
            throw TokenError.algorithmMismatch.with(detail: "the key is bound to \(key.algorithm), the token says \(algorithm)")
        }
        return key
    }
}

extension JWK {
    /// Signs `input` with this key's algorithm.
    func signature(for input: [UInt8]) throws(TokenError) -> [UInt8] {
        do {
            switch (material, algorithm.base) {
            case (.p256(_, let privateKey?), .es256):
                return Array(try privateKey.signature(for: input).rawRepresentation)
            case (.p384(_, let privateKey?), .es384):
                return Array(try privateKey.signature(for: input).rawRepresentation)
            case (.ed25519(_, let privateKey?), .edDSA):
                return Array(try privateKey.signature(for: input))
            case (.rsa(_, let privateKey?), .rs256):
                return Array(try privateKey.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation)
            case (.rsa(_, let privateKey?), .ps256):
                return Array(try privateKey.signature(for: input, padding: .PSS).rawRepresentation)
            case (.symmetric, _) where hmacState != nil:
                return input.withUnsafeBufferPointer { hmac(UnsafeRawBufferPointer($0)) }
            default:
                throw TokenError.invalidKey.with(detail: "this key cannot sign")
            }
        } catch let error as TokenError {
            throw error
        } catch {
            throw TokenError.invalidKey.with(detail: "signing failed")
        }
    }

    /// Whether `signature` is this key's valid signature over `input`. HMAC tags compare in constant time.
    func isValidSignature(_ signature: UnsafeRawBufferPointer, for input: UnsafeBufferPointer<UInt8>) -> Bool {
        switch (material, algorithm.base) {
        // Digests are computed through `update(bufferPointer:)` and handed to the digest-taking verifiers, which
        // keeps swift-crypto's generic `DataProtocol` hashing off the verification path.
        case (.p256(let publicKey, _), .es256):
            guard signature.count == 64, let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return publicKey.isValidSignature(parsed, for: JWK.digest(SHA256.self, input))
        case (.p384(let publicKey, _), .es384):
            guard signature.count == 96, let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return publicKey.isValidSignature(parsed, for: JWK.digest(SHA384.self, input))
        case (.ed25519(let publicKey, _), .edDSA):
            guard signature.count == 64 else { return false }
            return publicKey.isValidSignature(signature, for: input)
        case (.rsa(let publicKey, _), .rs256):
            guard signature.count == (publicKey.keySizeInBits + 7) / 8 else { return false }
            return publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: JWK.digest(SHA256.self, input), padding: .insecurePKCS1v1_5)
        case (.rsa(let publicKey, _), .ps256):
            guard signature.count == (publicKey.keySizeInBits + 7) / 8 else { return false }
            return publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: JWK.digest(SHA256.self, input), padding: .PSS)
        case (.symmetric, _) where hmacState != nil:
            return ConstantTime.equals(hmac(UnsafeRawBufferPointer(input)), signature)
        default:
            return false
        }
    }

    static func digest<H: HashFunction>(_ hash: H.Type, _ input: UnsafeBufferPointer<UInt8>) -> H.Digest {
        var hasher = H()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(input))
        return hasher.finalize()
    }

    /// The HMAC of `input`, continuing from the precomputed keyed state.
    func hmac(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        switch hmacState {
        case .sha256(let state): return state.authenticationCode(for: input)
        case .sha384(let state): return state.authenticationCode(for: input)
        case .sha512(let state): return state.authenticationCode(for: input)
        case nil: return []
        }
    }
}
