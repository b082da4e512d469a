import Crypto
import _CryptoExtras

/// AES_256_CBC_HMAC_SHA_512 authenticated encryption (RFC 7518 §5.2.5), JWE's `A256CBC-HS512`.
///
/// The 64-byte key splits into a MAC key (first half) and an encryption key (second half). The tag is the
/// first 32 bytes of HMAC-SHA-512 over the additional data, the IV, the ciphertext and the additional
/// data's length in bits; it is checked in constant time before anything is decrypted.
enum AESCBCHMAC {
    static let keySize = 64
    static let ivSize = 16
    static let tagSize = 32

    /// Encrypts and authenticates.
    static func seal(_ plaintext: [UInt8], key: SymmetricKey, iv: [UInt8], additionalData: [UInt8]) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        let (macKey, encryptionKey) = split(key)
        let ciphertext = Array(try AES._CBC.encrypt(plaintext, using: encryptionKey, iv: AES._CBC.IV(ivBytes: iv)))
        return (ciphertext, tag(macKey: macKey, additionalData: additionalData, iv: iv, ciphertext: ciphertext))
    }

    /// Checks the tag, then decrypts; `nil` when the tag or the padding is wrong.
    static func open(ciphertext: [UInt8], tag: [UInt8], key: SymmetricKey, iv: [UInt8], additionalData: [UInt8]) -> [UInt8]? {
        guard iv.count == ivSize, tag.count == tagSize, !ciphertext.isEmpty, ciphertext.count % 16 == 0 else { return nil }
        let (macKey, encryptionKey) = split(key)
        let expected = self.tag(macKey: macKey, additionalData: additionalData, iv: iv, ciphertext: ciphertext)
        guard ConstantTime.equals(expected, tag) else { return nil }
        guard let cbcIV = try? AES._CBC.IV(ivBytes: iv),
            let plaintext = try? AES._CBC.decrypt(ciphertext, using: encryptionKey, iv: cbcIV)
        else { return nil }
        return Array(plaintext)
    }

    private static func split(_ key: SymmetricKey) -> (mac: SymmetricKey, encryption: SymmetricKey) {
        key.withUnsafeBytes { bytes in
            (SymmetricKey(data: bytes[0..<32]), SymmetricKey(data: bytes[32..<64]))
        }
    }

    private static func tag(macKey: SymmetricKey, additionalData: [UInt8], iv: [UInt8], ciphertext: [UInt8]) -> [UInt8] {
        var mac = HMAC<SHA512>(key: macKey)
        mac.update(data: additionalData)
        mac.update(data: iv)
        mac.update(data: ciphertext)
        let bitLength = UInt64(additionalData.count) * 8
        mac.update(data: withUnsafeBytes(of: bitLength.bigEndian) { Array($0) })
        return Array(Array(mac.finalize()).prefix(tagSize))
    }
}
