import Foundation

/// The segments of a JWS (three) or JWE (five) compact serialization, located without copying.
///
/// The size cap is checked before anything else, then the token is split at its dots; nothing is decoded
/// here. Every segment must be non-empty except a JWE's encrypted key, which `dir` leaves empty.
struct CompactToken {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The offsets of the dots.
    private(set) var dots: (Int, Int, Int, Int) = (0, 0, 0, 0)
    let segmentCount: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumSize: Int) throws(TokenError) {
        guard bytes.count <= maximumSize else { throw TokenError.tokenTooLarge }
        var found = 0
        var positions = (0, 0, 0, 0)
        var index = 0
        while index < bytes.count, let dot = memchr(bytes.baseAddress! + index, Int32(UInt8(ascii: ".")), bytes.count - index) {
            let offset = bytes.baseAddress!.distance(to: dot.assumingMemoryBound(to: UInt8.self))
            switch found {
            case 0: positions.0 = offset
            case 1: positions.1 = offset
            case 2: positions.2 = offset
            case 3: positions.3 = offset
            default: throw TokenError.malformedToken.with(detail: "too many segments")
            }
            found += 1
            index = offset + 1
        }
        guard found == 2 || found == 4 else { throw TokenError.malformedToken.with(detail: "expected 3 or 5 segments") }
        self.bytes = bytes
        self.dots = positions
        self.segmentCount = found + 1
        for segment in 0..<segmentCount where range(of: segment).isEmpty {
            // A JWE `dir` has an empty encrypted-key segment. An empty JWS signature is left for the signature
            // check to reject, after the header has been read, so that `alg: none` is reported as such.
            if segmentCount == 5 && segment == 1 { continue }
            if segmentCount == 3 && segment == 2 { continue }
            throw TokenError.malformedToken.with(detail: "empty segment")
        }
    }

    var isJWE: Bool { segmentCount == 5 }

    func range(of segment: Int) -> Range<Int> {
        switch segment {
        case 0: return 0..<dots.0
        case 1: return (dots.0 + 1)..<dots.1
        case 2: return (dots.1 + 1)..<(segmentCount == 3 ? bytes.count : dots.2)
        case 3: return (dots.2 + 1)..<dots.3
        default: return (dots.3 + 1)..<bytes.count
        }
    }

    /// The raw (still encoded) bytes of a segment.
    func encoded(_ segment: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[range(of: segment)])
    }

    /// The base64url-decoded bytes of a segment.
    func decoded(_ segment: Int) throws(TokenError) -> [UInt8] {
        guard let decoded = Base64URL.decode(encoded(segment)) else { throw TokenError.invalidBase64URL }
        return decoded
    }

    /// The JWS signing input, `header.payload`, as it appears in the token.
    var signingInput: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[0..<dots.1]) }
}

extension String {
    /// Runs `body` over the string's UTF-8 bytes without copying when the string is stored contiguously.
    func withUTF8Buffer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws(TokenError) -> R) throws(TokenError) -> R {
        var copy = self
        let result: Result<R, TokenError> = copy.withUTF8 { buffer in
            do throws(TokenError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
