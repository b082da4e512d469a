import Foundation

/// How the verified-token cache finds and checks its entries.
///
/// An entry holds the whole token that was verified, and a hit requires the presented token to equal it byte for
/// byte: a cache never answers "valid" for bytes it did not verify (a token with the same seal and another
/// header or payload, an extra segment, or a character inserted anywhere is a miss, and then fails the full
/// check). The comparison is one `memcmp` of a few hundred bytes.
///
/// The dictionary key is the token's last eight bytes, the end of its signature or authentication tag: as good as
/// random, so no hashing is needed to spread entries, and the dictionaries hash keys with the process's random
/// seed besides. A presented token that shares an entry's key is only a miss: entries are written after a full
/// verification only.
@usableFromInline
enum TokenSeal {
    /// The cache key: the token's last eight bytes (fewer when it is shorter), as an integer.
    @inlinable
    static func cacheKey(of token: Substring) -> Int {
        var token = token
        return token.withUTF8 { bytes in
            var key = 0
            let start = max(0, bytes.count - 8)
            withUnsafeMutableBytes(of: &key) { key in
                key.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<bytes.count]))
            }
            return key
        }
    }

    /// The token's bytes, to keep in a cache entry.
    @inlinable
    static func bytes(of token: Substring) -> [UInt8] {
        var token = token
        return token.withUTF8 { Array($0) }
    }

    /// Whether `token` is exactly the verified token `verified`, byte for byte.
    @inlinable
    static func matches(_ verified: [UInt8], token: Substring) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            guard !verified.isEmpty, verified.count == bytes.count else { return false }
            return verified.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        }
    }
}
