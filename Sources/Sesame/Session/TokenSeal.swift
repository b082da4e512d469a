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
    static func cacheKey(of token: String) -> Int {
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
    static func seal(of token: String) -> [UInt8] {
        var token = token
        return token.withUTF8 { Array($0[sealStart($0)...]) }
    }

    /// Whether a token's seal is exactly `seal`.
    @usableFromInline
    static func matches(_ seal: [UInt8], token: String) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            let start = sealStart(bytes)
            guard !seal.isEmpty, seal.count == bytes.count - start else { return false }
            return seal.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress! + start, seal.count) == 0 }
        }
    }

    /// Where the last segment starts: after the last `.`.
    static func sealStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = bytes.count
        while index > 0, bytes[index - 1] != UInt8(ascii: ".") { index -= 1 }
        return index
    }
}
