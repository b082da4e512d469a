import Foundation

/// Where one member of a JSON object lies in the source text.
struct JSONMemberLocation {
    /// The name, between its quotes, still escaped.
    var key: Range<Int>
    /// Whether the name contains escapes (and so must be decoded before comparing it).
    var keyIsEscaped: Bool
    /// The value's text.
    var value: Range<Int>
    /// What the value is, as far as the scan found out without materializing it.
    var kind: Kind = .other
    /// The value, when `kind` is `.integer`.
    var integer: Int64 = 0

    enum Kind: UInt8 {
        /// A string of ASCII characters without escapes: its text is `value` without the quotes.
        case plainString
        /// A string with escapes or non-ASCII characters (already validated).
        case string
        /// A number without fraction or exponent that fits in 64 bits: see `integer`.
        case integer
        /// Anything else.
        case other
    }

    /// The string value, when the member holds a string.
    func string(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        switch kind {
        case .plainString:
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[(value.lowerBound + 1)..<(value.upperBound - 1)]), as: UTF8.self)
        case .string:
            return JSONObjectScanner.value(at: value, in: bytes)?.stringValue
        default:
            return nil
        }
    }

    /// The value, parsed on its own.
    func parsed(in bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        switch kind {
        case .integer: return .integer(integer)
        case .plainString: return string(in: bytes).map(JSONValue.string)
        default: return JSONObjectScanner.value(at: value, in: bytes)
        }
    }
}

/// The member locations a scan records: in caller-provided (stack) memory first, on the heap past it.
struct JSONMemberList {
    private let inline: UnsafeMutableBufferPointer<JSONMemberLocation>
    private var overflow: [JSONMemberLocation] = []
    private(set) var count = 0

    init(storage: UnsafeMutableBufferPointer<JSONMemberLocation>) { inline = storage }

    @inline(__always)
    subscript(index: Int) -> JSONMemberLocation {
        index < inline.count ? inline[index] : overflow[index - inline.count]
    }

    @inline(__always)
    mutating func append(_ member: JSONMemberLocation) {
        if count < inline.count {
            (inline.baseAddress! + count).initialize(to: member)
        } else {
            overflow.append(member)
        }
        count += 1
    }

    /// Drops the members from `newCount` on.
    mutating func truncate(to newCount: Int) {
        if newCount < inline.count {
            overflow.removeAll(keepingCapacity: true)
        } else if newCount - inline.count < overflow.count {
            overflow.removeSubrange((newCount - inline.count)...)
        }
        count = newCount
    }

    /// The first member whose (unescaped) name is `name`.
    func first(named name: String, in bytes: UnsafeBufferPointer<UInt8>) -> JSONMemberLocation? {
        var name = name
        return name.withUTF8 { utf8 in
            for index in 0..<count {
                let member = self[index]
                if member.keyIsEscaped {
                    if JSONObjectScanner(bytes).decodedName(member.key, true).utf8.elementsEqual(utf8) { return member }
                } else if member.key.count == utf8.count,
                    utf8.count == 0 || memcmp(bytes.baseAddress! + member.key.lowerBound, utf8.baseAddress!, utf8.count) == 0
                {
                    return member
                }
            }
            return nil
        }
    }
}

/// Validates a JSON text that must be one object, as strictly as ``JSONValue/init(parsing:)`` does, and
/// locates its top-level members without building anything.
///
/// Token payloads are read this way: nothing is materialized while scanning (integers aside, which cost
/// nothing to keep), every value is validated (grammar, UTF-8, escapes, nesting depth, duplicate names at
/// every level) and located, and a caller parses only the members it asks for.
struct JSONObjectScanner {
    var parser: JSONParser

    init(_ bytes: UnsafeBufferPointer<UInt8>) { parser = JSONParser(bytes) }

    /// Scans a whole text that must be exactly one valid object, and hands its top-level members to `body`.
    ///
    /// The member locations live in stack memory for the duration of `body` (on the heap only for objects with
    /// very many members), so a scan allocates nothing.
    ///
    /// - Returns: `body`'s result, or `nil` when the text is not one valid JSON object.
    static func withMembers<R>(of bytes: UnsafeBufferPointer<UInt8>, _ body: (JSONMemberList) throws(TokenError) -> R) throws(TokenError) -> R? {
        try withUnsafeTemporaryAllocation(of: JSONMemberLocation.self, capacity: 32) { storage throws(TokenError) -> R? in
            var scanner = JSONObjectScanner(bytes)
            var members = JSONMemberList(storage: storage)
            guard (try? scanner.scanMembers(into: &members)) != nil else { return nil }
            return try body(members)
        }
    }

    /// Scans the whole text; throws unless it is exactly one valid object.
    mutating func scanMembers(into members: inout JSONMemberList) throws(JSONParseError) {
        parser.skipWhitespace()
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "{") else {
            throw parser.error("expected an object")
        }
        try skipObject(depth: 1, record: &members)
        // Only the top level is kept; nested objects' names were dropped as each one ended.
        parser.skipWhitespace()
        if parser.index != parser.bytes.count { throw parser.error("unexpected data after the value") }
    }

    mutating func skipValue(depth: Int, members: inout JSONMemberList) throws(JSONParseError) {
        parser.skipWhitespace()
        guard parser.index < parser.bytes.count else { throw parser.error("unexpected end of input") }
        switch parser.bytes[parser.index] {
        case UInt8(ascii: "{"):
            // Nested names are recorded after the enclosing object's, for the duplicate check, and dropped after.
            let start = members.count
            try skipObject(depth: depth + 1, record: &members)
            members.truncate(to: start)
        case UInt8(ascii: "["): try skipArray(depth: depth + 1, members: &members)
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "t"): try parser.expectLiteral("true")
        case UInt8(ascii: "f"): try parser.expectLiteral("false")
        case UInt8(ascii: "n"): try parser.expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try parser.parseNumber()
        default: throw parser.error("unexpected character")
        }
    }

    /// Skips an object, recording its members' locations and rejecting duplicate names.
    mutating func skipObject(depth: Int, record members: inout JSONMemberList) throws(JSONParseError) {
        guard depth <= JSONValue.maximumDepth else { throw parser.error("nesting too deep") }
        let first = members.count
        var seen: UInt64 = 0
        var sawEscapedName = false
        parser.index += 1  // {
        parser.skipWhitespace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
            return
        }
        while true {
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                throw parser.error("expected a member name")
            }
            let keyOffset = parser.index
            let (key, escaped) = try skipString()
            // A 64-bit filter over the names seen so far (by length and last byte) rules most names out
            // without comparing; escaped names always take the full comparison.
            let bit: UInt64 = escaped || key.isEmpty ? 1 : 1 << ((UInt64(key.count) &* 7 &+ UInt64(parser.bytes[key.upperBound - 1])) & 63)
            if seen & bit != 0 || escaped || sawEscapedName {
                var other = first
                while other < members.count {
                    if isSameName(members[other].key, members[other].keyIsEscaped, key, escaped) {
                        throw JSONParseError(reason: "duplicate member name", offset: keyOffset)
                    }
                    other += 1
                }
            }
            seen |= bit
            sawEscapedName = sawEscapedName || escaped
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else {
                throw parser.error("expected ':'")
            }
            parser.index += 1
            parser.skipWhitespace()
            let valueStart = parser.index
            var location = JSONMemberLocation(key: key, keyIsEscaped: escaped, value: valueStart..<valueStart)
            if valueStart < parser.bytes.count, parser.bytes[valueStart] == UInt8(ascii: "\"") {
                let (_, special) = try skipString(reportingNonASCII: true)
                location.kind = special ? .string : .plainString
            } else if valueStart < parser.bytes.count, parser.bytes[valueStart] == UInt8(ascii: "-") || (parser.bytes[valueStart] &- UInt8(ascii: "0")) < 10 {
                if case .integer(let integer) = try parser.parseNumber() {
                    location.kind = .integer
                    location.integer = integer
                }
            } else {
                try skipValue(depth: depth, members: &members)
            }
            location.value = valueStart..<parser.index
            members.append(location)
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count else { throw parser.error("unexpected end of input") }
            if parser.bytes[parser.index] == UInt8(ascii: ",") {
                parser.index += 1
            } else if parser.bytes[parser.index] == UInt8(ascii: "}") {
                parser.index += 1
                return
            } else {
                throw parser.error("expected ',' or '}'")
            }
        }
    }

    mutating func skipArray(depth: Int, members: inout JSONMemberList) throws(JSONParseError) {
        guard depth <= JSONValue.maximumDepth else { throw parser.error("nesting too deep") }
        parser.index += 1  // [
        parser.skipWhitespace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "]") {
            parser.index += 1
            return
        }
        while true {
            try skipValue(depth: depth, members: &members)
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count else { throw parser.error("unexpected end of input") }
            if parser.bytes[parser.index] == UInt8(ascii: ",") {
                parser.index += 1
            } else if parser.bytes[parser.index] == UInt8(ascii: "]") {
                parser.index += 1
                return
            } else {
                throw parser.error("expected ',' or ']'")
            }
        }
    }

    /// Skips a string, returning the range between its quotes and whether it has escapes. Escaped or
    /// non-ASCII strings are fully decoded once, which validates them.
    mutating func skipString(reportingNonASCII: Bool = false) throws(JSONParseError) -> (Range<Int>, Bool) {
        let start = parser.index + 1
        var index = start
        var special: UInt8 = 0
        let bytes = parser.bytes
        let kinds = JSONObjectScanner.byteKinds
        while true {
            // A tight loop over ordinary ASCII; the four kinds of byte that need a look stop it.
            while index < bytes.count, kinds[Int(bytes[index])] == 0 { index += 1 }
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 {
                parser.index = index
                throw parser.error("unescaped control character in string")
            }
            if byte == UInt8(ascii: "\\") {
                special |= 0x01
                index += 2  // the escaped character cannot end the string
            } else {
                special |= 0x80
                index += 1
            }
        }
        guard index < parser.bytes.count else {
            parser.index = index
            throw parser.error("unterminated string")
        }
        if special == 0 {
            parser.index = index + 1
            return (start..<index, false)
        }
        _ = try parser.parseString()  // validates escapes and UTF-8, and moves past the string
        return (start..<index, reportingNonASCII || special & 0x01 != 0)
    }

    /// 0: ordinary ASCII; 1: `"`; 2: control character; 3: `\\`; 4: non-ASCII.
    static let byteKinds: [UInt8] = (0...255).map { byte -> UInt8 in
        switch byte {
        case 0x22: return 1
        case 0..<0x20: return 2
        case 0x5C: return 3
        case 0x80...: return 4
        default: return 0
        }
    }

    func isSameName(_ a: Range<Int>, _ aEscaped: Bool, _ b: Range<Int>, _ bEscaped: Bool) -> Bool {
        if !aEscaped && !bEscaped {
            guard a.count == b.count else { return false }
            return memcmpEqual(a, b)
        }
        return decodedName(a, aEscaped) == decodedName(b, bEscaped)
    }

    private func memcmpEqual(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        var i = a.lowerBound, j = b.lowerBound
        while i < a.upperBound {
            if parser.bytes[i] != parser.bytes[j] { return false }
            i += 1
            j += 1
        }
        return true
    }

    /// The decoded text of a name located by `range` (between its quotes).
    func decodedName(_ range: Range<Int>, _ escaped: Bool) -> String {
        if !escaped { return String(decoding: UnsafeBufferPointer(rebasing: parser.bytes[range]), as: UTF8.self) }
        var nested = JSONParser(parser.bytes)
        nested.index = range.lowerBound - 1
        return (try? nested.parseString()) ?? ""
    }

    /// Parses the value located at `range` (a range `scanMembers` reported, so it is known to be valid).
    static func value(at range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var parser = JSONParser(UnsafeBufferPointer(rebasing: bytes[..<range.upperBound]))
        parser.index = range.lowerBound
        return try? parser.parseValue(depth: 1)
    }
}
