import Foundation
import HTTPTypes

/// Reads cookies from `Cookie` header fields, on their UTF-8 bytes.
///
/// Session cookies are long, and character-by-character `String` handling would cost more than verifying a
/// cached session, so the header is scanned with `memchr` and compared with `memcmp`.
@usableFromInline
enum CookieHeader {
    /// The value of the first (non-empty) cookie named `name` across the `Cookie` fields.
    static func value(named name: String, in fields: HTTPFields) -> String? {
        name.isEmpty ? nil : best(names: [Array(name.utf8)], in: fields)
    }

    /// The value of the most preferred of `names` over all of a request's `Cookie` fields: the first name wins
    /// wherever each appears.
    static func best(names: [[UInt8]], in fields: HTTPFields) -> String? {
        bestSlice(names: names, in: fields).map(String.init)
    }

    /// The same, as a slice of the field it is in.
    static func bestSlice(names: [[UInt8]], in fields: HTTPFields) -> Substring? {
        bestSlice(names: names, inHeaders: fields.lazy.filter { $0.name == .cookie }.map(\.value))
    }

    /// The value of the most preferred of `names` over the values of `Cookie` fields: the first name wins
    /// wherever each appears.
    static func best(names: [[UInt8]], inHeaders headers: some Sequence<String>) -> String? {
        bestSlice(names: names, inHeaders: headers).map(String.init)
    }

    /// The value of the most preferred of `names` over the values of `Cookie` fields, as a slice of the field
    /// it is in (no copy of a long cookie): the first name wins wherever each appears.
    static func bestSlice(names: [[UInt8]], inHeaders headers: some Sequence<String>) -> Substring? {
        var fallback: Substring? = nil
        for header in headers {
            var bytes = header
            guard let (range, rank) = bytes.withUTF8({ best(names: names, in: $0) }) else { continue }
            // The range is bounded by ASCII bytes (`=`, `;`, spaces, quotes) or the ends, so it falls on
            // character boundaries.
            let utf8 = bytes.utf8
            let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            let value = bytes[start..<utf8.index(start, offsetBy: range.count)]
            if rank == 0 { return value }
            if fallback == nil { fallback = value }
        }
        return fallback
    }

    /// In one pass over a `Cookie` header, where the non-empty value of the most preferred of `names` (earlier
    /// is preferred) is, and its rank.
    static func best(names: [[UInt8]], in header: UnsafeBufferPointer<UInt8>) -> (Range<Int>, Int)? {
        var best: (range: Range<Int>, rank: Int)? = nil
        var index = 0
        let base = header.baseAddress
        while index < header.count, let base {
            let remaining = header.count - index
            let end = memchr(base + index, Int32(UInt8(ascii: ";")), remaining).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? header.count
            var nameStart = index
            while nameStart < end, header[nameStart] == UInt8(ascii: " ") || header[nameStart] == UInt8(ascii: "\t") { nameStart += 1 }
            if let equals = memchr(base + nameStart, Int32(UInt8(ascii: "=")), end - nameStart).map({ base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }) {
                for rank in names.indices where best.map({ rank < $0.rank }) ?? true {
                    let matches = names[rank].count == equals - nameStart
                        && names[rank].withUnsafeBufferPointer { memcmp(base + nameStart, $0.baseAddress!, $0.count) == 0 }
                    guard matches else { continue }
                    var valueStart = equals + 1, valueEnd = end
                    while valueEnd > valueStart, header[valueEnd - 1] == UInt8(ascii: " ") || header[valueEnd - 1] == UInt8(ascii: "\t") { valueEnd -= 1 }
                    if valueEnd - valueStart >= 2, header[valueStart] == UInt8(ascii: "\""), header[valueEnd - 1] == UInt8(ascii: "\"") {
                        valueStart += 1
                        valueEnd -= 1
                    }
                    if valueEnd > valueStart { best = (valueStart..<valueEnd, rank) }
                    break
                }
            }
            if best?.rank == 0 { break }
            index = end + 1
        }
        guard let best else { return nil }
        return (best.range, best.rank)
    }
}
