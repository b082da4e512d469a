import Crypto
import Foundation
import _CryptoExtras

/// JSON Web Encryption (RFC 7516) in the compact serialization, with direct key agreement (`dir`).
///
/// Two content encryption algorithms: `A256GCM` (Sesame's choice for encrypted sessions) and
/// `A256CBC-HS512`. The protected header is the additional authenticated data, so any change to it, the
/// IV, the ciphertext or the tag makes decryption fail. Compression (`zip`) is refused.
public enum JWE {
    /// A token that decrypted.
    public struct Decrypted: Sendable {
        /// The protected header.
        public let header: JOSEHeader
        /// The plaintext.
        public let plaintext: [UInt8]
        /// The key that decrypted it.
        public let key: JWK
    }

    /// Encrypts a plaintext.
    ///
    /// - Parameters:
    ///   - plaintext: The bytes to encrypt.
    ///   - key: A content-encryption key (`A256GCM` or `A256CBC-HS512`); its key ID goes into the header.
    ///   - type: The `typ` header, if any.
    ///   - header: Further header members.
    /// - Returns: The compact serialization (its encrypted-key segment is empty, as `dir` requires).
    /// - Throws: ``TokenError/invalidKey`` if the key is not a content-encryption key.
    public static func encrypt(_ plaintext: some Collection<UInt8>, key: JWK, type: String? = nil, header: JSONObject = [:]) throws(TokenError) -> String {
        guard case .symmetric(let secret) = key.material, !key.algorithm.isSigning else {
            throw TokenError.invalidKey.with(detail: "JWE needs an A256GCM or A256CBC-HS512 key")
        }
        var output: [UInt8] = []
        Base64URL.appendEncoded(JOSEHeader.encode(algorithm: "dir", encryption: key.algorithm.name, keyID: key.keyID, type: type, extra: header), to: &output)
        let additionalData = output
        let iv: [UInt8], ciphertext: [UInt8], tag: [UInt8]
        do {
            if key.algorithm == .a256gcm {
                let box = try AES.GCM.seal(Array(plaintext), using: secret, authenticating: additionalData)
                (iv, ciphertext, tag) = (Array(box.nonce), Array(box.ciphertext), Array(box.tag))
            } else {
                iv = (0..<AESCBCHMAC.ivSize).map { _ in UInt8.random(in: 0...255) }
                (ciphertext, tag) = try AESCBCHMAC.seal(Array(plaintext), key: secret, iv: iv, additionalData: additionalData)
            }
        } catch {
            throw TokenError.invalidKey.with(detail: "encryption failed")
        }
        output.append(contentsOf: "..".utf8)
        Base64URL.appendEncoded(iv, to: &output)
        output.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(ciphertext, to: &output)
        output.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(tag, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Decrypts a compact JWE.
    ///
    /// - Parameters:
    ///   - token: The compact serialization.
    ///   - keys: The accepted content-encryption keys.
    ///   - maximumSize: The largest token accepted, in bytes, checked before parsing (default 8 KiB).
    ///   - understoodCriticalParameters: `crit` extensions the caller handles (default: none).
    /// - Returns: The header, plaintext and decrypting key.
    /// - Throws: ``TokenError`` naming the first check that failed; ``TokenError/decryptionFailed`` for a
    ///   wrong key or any tampering.
    public static func decrypt(
        _ token: String,
        keys: KeySet,
        maximumSize: Int = JWS.defaultMaximumSize,
        understoodCriticalParameters: Set<String> = []
    ) throws(TokenError) -> Decrypted {
        try token.withUTF8Buffer { bytes throws(TokenError) in
            let compact = try CompactToken(bytes, maximumSize: maximumSize)
            guard compact.isJWE else { throw TokenError.malformedToken.with(detail: "expected a JWE, found a JWS") }
            return try decrypt(compact, keys: keys, understoodCriticalParameters: understoodCriticalParameters)
        }
    }

    static func decrypt(_ compact: CompactToken, keys: KeySet, understoodCriticalParameters: Set<String>) throws(TokenError) -> Decrypted {
        let header: JOSEHeader, key: JWK
        if let known = keys.knownHeader(compact.encoded(0), signing: false) {
            (header, key) = known
        } else {
            header = try JOSEHeader(decoded: compact.decoded(0), understoodCriticalParameters: understoodCriticalParameters)
            key = try selectKey(for: header, in: keys)
        }
        guard compact.range(of: 1).isEmpty else { throw TokenError.malformedToken.with(detail: "dir has no encrypted key") }
        guard case .symmetric(let secret) = key.material else { throw TokenError.algorithmMismatch }
        let encryption = key.algorithm
        let additionalData = UnsafeRawBufferPointer(compact.encoded(0))
        let plaintext: [UInt8]?
        if encryption == .a256gcm {
            // IV, ciphertext and tag decode straight into one buffer: AES-GCM's combined form.
            guard let ivCount = Base64URL.decodedCount(compact.encoded(2).count),
                let ciphertextCount = Base64URL.decodedCount(compact.encoded(3).count),
                let tagCount = Base64URL.decodedCount(compact.encoded(4).count)
            else { throw TokenError.invalidBase64URL }
            guard ivCount == 12, tagCount == 16 else { throw TokenError.decryptionFailed }
            var decoded = false
            let combined = [UInt8](unsafeUninitializedCapacity: ivCount + ciphertextCount + tagCount) { buffer, initialized in
                decoded = Base64URL.decode(compact.encoded(2), into: UnsafeMutableBufferPointer(rebasing: buffer[0..<ivCount]))
                    && Base64URL.decode(compact.encoded(3), into: UnsafeMutableBufferPointer(rebasing: buffer[ivCount..<(ivCount + ciphertextCount)]))
                    && Base64URL.decode(compact.encoded(4), into: UnsafeMutableBufferPointer(rebasing: buffer[(ivCount + ciphertextCount)...]))
                initialized = buffer.count
            }
            guard decoded else { throw TokenError.invalidBase64URL }
            if let box = try? AES.GCM.SealedBox(combined: combined), let opened = try? AES.GCM.open(box, using: secret, authenticating: additionalData) {
                plaintext = opened.withUnsafeBytes { Array($0) }
            } else {
                plaintext = nil
            }
        } else {
            let iv = try compact.decoded(2), ciphertext = try compact.decoded(3), tag = try compact.decoded(4)
            plaintext = AESCBCHMAC.open(ciphertext: ciphertext, tag: tag, key: secret, iv: iv, additionalData: Array(additionalData))
        }
        guard let plaintext else { throw TokenError.decryptionFailed }
        return Decrypted(header: header, plaintext: plaintext, key: key)
    }

    /// Checks a parsed header's `alg`, `enc` and `zip`, selects the key by `kid`, and requires the key's own algorithm.
    static func selectKey(for header: JOSEHeader, in keys: KeySet) throws(TokenError) -> JWK {
        if header.algorithm.lowercased() == "none" { throw TokenError.algorithmNone }
        guard header.algorithm == "dir" else { throw TokenError.unsupportedAlgorithm.with(detail: "alg \(header.algorithm)") }
        guard let encryptionName = header.encryption, let encryption = KeyAlgorithm(name: encryptionName), !encryption.isSigning else {
            throw TokenError.unsupportedAlgorithm.with(detail: "enc \(header.encryption ?? "missing")")
        }
        guard header.fields["zip"] == nil else { throw TokenError.unsupportedAlgorithm.with(detail: "compressed JWE is not accepted") }
        let key = try keys.key(forID: header.keyID)
        guard key.algorithm == encryption, case .symmetric = key.material else {
            throw TokenError.algorithmMismatch.with(detail: "the key is bound to \(key.algorithm), the token says \(encryption)")
        }
        return key
    }
}
