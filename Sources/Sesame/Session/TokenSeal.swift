import Foundation

/// A token's seal: its last compact segment, the signature of a JWS or the authentication tag of a JWE.
///
/// The verified-token cache is keyed by the seal's first eight bytes and an entry serves only a token whose seal
/// is byte for byte the entry's. A seal cannot be produced without the keys: it is a signature or MAC over the
/// whole token, so its first bytes are as good as random and make a key without hashing. An entry is only ever
/// reached by presenting a seal Sesame itself verified, together with the rest of that token or with anything
/// else; in both cases the presenter holds that token already and gains nothing. A key chosen to collide with
/// a cached one is harmless, because the seal comparison follows (it is a miss, and only a token that verifies
/// is ever cached), and the cache's dictionaries hash keys with the process's random seed. The cache holds
/// seals, never whole tokens.
@usableFromInline
enum TokenSeal {
    /// The cache key: the seal's first eight bytes (fewer when it is shorter), as an integer.
    @usableFromInline
    static func cacheKey(of token: Substring) -> Int {
        var token = token
        return token.withUTF8 { bytes in
            let start = sealStart(bytes)
            var key = 0
            withUnsafeMutableBytes(of: &key) { key in
                key.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<min(bytes.count, start + 8)]))
            }
            return key
        }
    }

    /// The seal's bytes, to keep in a cache entry.
    @usableFromInline
    static func seal(of token: Substring) -> [UInt8] {
        var token = token
        return token.withUTF8 { Array($0[sealStart($0)...]) }
    }

    /// Whether a token's seal is exactly `seal`.
    @usableFromInline
    static func matches(_ seal: [UInt8], token: Substring) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            let start = sealStart(bytes)
            guard !seal.isEmpty, seal.count == bytes.count - start else { return false }
            return seal.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress! + start, seal.count) == 0 }
        }
    }

    /// Where the last segment starts: after the last `.`.
    ///
    /// A seal is tens to hundreds of characters long (22 for an AES-GCM tag, 86 for ES256, 342 for RS256), so
    /// the scan back to its dot reads eight bytes at a time, and then byte by byte only within the word that
    /// holds a dot.
    static func sealStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var end = bytes.count
        while end >= 8 {
            let word = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) ^ 0x2E2E_2E2E_2E2E_2E2E
            // Nonzero exactly when some byte of `word` is zero, that is, some byte of the eight is a dot.
            if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0 { break }
            end -= 8
        }
        while end > 0, base[end - 1] != UInt8(ascii: ".") { end -= 1 }
        return end
    }
}
