import Foundation

/// A token's seal: its last compact segment, the signature of a JWS or the authentication tag of a JWE.
///
/// The verified-token cache is keyed by a hash of the seal and an entry serves only a token whose seal is
/// byte for byte the entry's. A seal cannot be produced without the keys: it is a signature or MAC over the
/// whole token. So an entry is only ever reached by presenting a seal Sesame itself verified, together with
/// the rest of that token or with anything else; in both cases the presenter holds that token already and
/// gains nothing. Even a deliberate collision of the (per-process randomly seeded) hash is harmless, because
/// the seal comparison follows. The cache holds seals, never whole tokens.
@usableFromInline
enum TokenSeal {
    /// The cache key: a SipHash of the seal, with the process's random seed.
    @usableFromInline
    static func cacheKey(of token: String) -> Int {
        var token = token
        return token.withUTF8 { bytes in
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[sealStart(bytes)...]))
            return hasher.finalize()
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
