import Testing

@testable import Sesame

@Suite("CBOR strict decoder") struct CBORDecodingTests {
    // MARK: - Rejections

    @Test("non-shortest integers, lengths and counts are rejected", arguments: [
        "1800",  // 0 in one byte
        "1817",  // 23 in one byte
        "190000",  // 0 in two bytes
        "1900ff",  // 255 in two bytes
        "1a0000ffff",  // 65535 in four bytes
        "1b00000000ffffffff",  // 2^32-1 in eight bytes
        "3817",  // -24 in one byte
        "3900ff",  // negative, two bytes
        "5800",  // empty byte string, length in one byte
        "580101",  // one-byte byte string, length in one byte
        "7801 61",  // one-byte text, length in one byte
        "9800",  // empty array, count in one byte
        "b800",  // empty map, count in one byte
        "a1 1800 00",  // non-canonical key inside a map
    ])
    func nonShortestForms(hex: String) {
        expectCBORError(.nonCanonical, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("indefinite lengths are rejected", arguments: [
        "5f42010243030405ff",  // (_ h'0102', h'030405')
        "7f657374726561646d696e67ff",  // (_ "strea", "ming")
        "9fff",  // [_ ]
        "9f018202039f0405ffff",  // [_ 1, [2, 3], [_ 4, 5]]
        "83018202039f0405ff",  // [1, [2, 3], [_ 4, 5]]
        "bf61610161629f0203ffff",  // {_ "a": 1, "b": [_ 2, 3]}
        "826161bf61626163ff",  // ["a", {_ "b": "c"}]
    ])
    func indefiniteLengths(hex: String) {
        expectCBORError(.indefiniteLength, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("tags, floats, undefined and simple values are rejected", arguments: [
        "c074323031332d30332d32315432303a30343a30305a",  // 0("2013-03-21T20:04:00Z")
        "c11a514b67b0",  // 1(1363896240)
        "c249010000000000000000",  // 2(h'010000000000000000') = 2^64 as a bignum
        "c349010000000000000000",  // -2^64 - 1
        "d74401020304",  // 23(h'01020304')
        "d818456449455446",  // 24(h'6449455446')
        "d82076687474703a2f2f7777772e6578616d706c652e636f6d",  // 32("http://www.example.com")
        "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00", "f97bff", "fa47c35000",
        "fa7f7fffff", "fb7e37e43c8800759c", "f90001", "f90400", "f9c400", "fbc010666666666666",
        "f97c00", "f97e00", "f9fc00", "fa7f800000", "fa7fc00000", "faff800000", "fb7ff0000000000000",
        "fb7ff8000000000000", "fbfff0000000000000",
        "f7",  // undefined
        "f0",  // simple(16)
        "f8ff",  // simple(255)
        "f820",  // simple(32)
        "e0",  // simple(0)
        "a1 01 f7",  // undefined as a map value
    ])
    func unsupportedTypes(hex: String) {
        expectCBORError(.unsupportedType, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("reserved additional information and stray breaks are malformed", arguments: [
        "1c", "1d", "1e", "3c", "5c", "7d", "9e", "bc",  // additional information 28-30
        "1f", "3f",  // integers cannot be indefinite
        "fc", "fd", "fe",  // reserved major-7 values
        "ff",  // break outside an indefinite item
        "81ff",  // break as an array element
    ])
    func malformedHeads(hex: String) {
        expectCBORError(.malformed, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("lengths and counts beyond the input are rejected before allocating", arguments: [
        "5bffffffffffffffff",  // byte string of 2^64-1 bytes
        "5b7fffffffffffffff",
        "5b0000000100000000",  // 2^32 bytes
        "5affffffff",
        "7bffffffffffffffff",  // text of 2^64-1 bytes
        "9bffffffffffffffff",  // array of 2^64-1 items
        "bbffffffffffffffff",  // map of 2^64-1 pairs
        "bb7fffffffffffffff",
        "45 01020304",  // one byte short
    ])
    func hugeLengths(hex: String) {
        expectCBORError(.lengthTooLarge, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("a count the remaining bytes cannot hold is rejected", arguments: [
        "83 01 02",  // three elements, two bytes left
        "a2 01 02 03",  // two pairs need four bytes, three left
        "a1 01",  // one pair needs two bytes, one left
        "44 01 02",  // four content bytes, two left
        "63 61 62",  // three text bytes, two left
        "82 01 82 01",  // inner array claims two, one byte left
    ])
    func countsBeyondInput(hex: String) {
        expectCBORError(.lengthTooLarge, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("input that ends inside an item is truncated", arguments: [
        "",  // nothing at all
        "18",  // argument missing
        "19 01",  // two-byte argument cut
        "1a 00 01 00",  // four-byte argument cut
        "1b 00 00 00 00 00 00 01",  // eight-byte argument cut
        "82 19 01 00",  // second element missing
        "a1 01 19",  // map value's argument missing
        "59 01",  // byte string length cut
    ])
    func truncated(hex: String) {
        expectCBORError(.truncated, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("bytes after the one item are rejected, but the prefix decoder reports its length")
    func trailingBytes() throws {
        expectCBORError(.trailingBytes) { _ = try CBORValue.decode([0x00, 0x00]) }
        expectCBORError(.trailingBytes) { _ = try CBORValue.decode(testHex("a0 a0")) }
        expectCBORError(.trailingBytes) { _ = try CBORValue.decode(testHex("4101 ff")) }
        let prefix = try CBORValue.decodePrefix(testHex("a1 01 02 ff ff"))
        #expect(prefix.value == [1: 2])
        #expect(prefix.byteCount == 3)
        let slice = testHex("00 00 82 01 02 99")[2...]
        let fromSlice = try CBORValue.decodePrefix(slice)
        #expect(fromSlice.value == [1, 2])
        #expect(fromSlice.byteCount == 3)
        #expect(try CBORValue.decode(slice.dropLast()) == [1, 2])
    }

    @Test("error offsets count from the start of the input (or slice)")
    func errorOffsets() {
        do {
            _ = try CBORValue.decode(testHex("82 01 1800"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .nonCanonical)
            #expect(error.offset == 2)
        }
        let slice = testHex("ff ff 83 01 02")[2...]
        do {
            _ = try CBORValue.decode(slice)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .lengthTooLarge)
            #expect(error.offset == 0)
        }
    }

    @Test("duplicate map keys are rejected, adjacent or not", arguments: [
        "a2 01 02 01 03",
        "a2 6161 01 6161 02",
        "a2 40 00 40 01",
        "a3 01 00 02 00 01 00",  // 1, 2, 1: out of order, and a duplicate
        "a2 f6 00 f6 00",
        "a1 a2 01 00 01 00 00",  // duplicate inside a key
    ])
    func duplicateKeys(hex: String) {
        expectCBORError(.duplicateKey, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("map keys out of CTAP2 canonical order are rejected", arguments: [
        "a2 03 00 01 00",  // 3 before 1
        "a2 6162 00 6161 00",  // "b" before "a"
        "a2 6161 00 01 00",  // a 2-byte key before a 1-byte key
        "a2 1818 00 20 00",  // 24 (2 bytes) before -1 (1 byte): bytewise order would allow this, CTAP2 does not
        "a2 626161 00 6162 00",  // "aa" (3 bytes) before "b" (2 bytes)
        "a2 20 00 01 00",  // -1 (0x20) before 1 (0x01)
        "a3 01 00 03 00 02 00",
    ])
    func unorderedKeys(hex: String) {
        expectCBORError(.unorderedKeys, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("keys in CTAP2 canonical order are accepted", arguments: [
        "a2 20 00 1818 00",  // -1 then 24: length first
        "a2 6162 00 626161 00",  // "b" then "aa"
        "a5 01 02 03 26 20 01 21 40 22 40",  // a COSE EC2 key's label order
        "a3 63666d74 00 6761747453746d74 00 6861757468446174 61 00",  // fmt, attStmt, authData
        "a2 00 00 f4 00",  // 0 then false (0xf4)
    ])
    func canonicalOrderAccepted(hex: String) throws {
        let bytes = testHex(hex)
        #expect(try CBORValue.decode(bytes).encoded() == bytes)
    }

    @Test("text must be valid UTF-8", arguments: [
        "61 ff", "61 80", "61 c3",  // invalid byte, lone continuation, cut sequence
        "62 c0 80",  // overlong NUL
        "63 e0 80 80",  // overlong
        "63 ed a0 80",  // UTF-16 surrogate
        "64 f4 90 80 80",  // above U+10FFFF
        "62 c3 28",
        "a1 61 ff 00",  // invalid text as a map key
    ])
    func invalidUTF8(hex: String) {
        expectCBORError(.invalidUTF8, "\(hex)") { _ = try CBORValue.decode(testHex(hex)) }
    }

    @Test("nesting is bounded: 16 levels by default, configurable, clamped at 64")
    func depth() throws {
        func nestedArrays(_ levels: Int) -> [UInt8] { [UInt8](repeating: 0x81, count: levels - 1) + [0x80] }
        func nestedMaps(_ levels: Int) -> [UInt8] {
            [UInt8](repeating: 0, count: 0) + (0..<(levels - 1)).flatMap { _ in [0xa1, 0x00] } + [0xa0]
        }
        #expect(throws: Never.self) { try CBORValue.decode(nestedArrays(16)) }
        expectCBORError(.tooDeep) { _ = try CBORValue.decode(nestedArrays(17)) }
        #expect(throws: Never.self) { try CBORValue.decode(nestedMaps(16)) }
        expectCBORError(.tooDeep) { _ = try CBORValue.decode(nestedMaps(17)) }
        // Configurable.
        #expect(throws: Never.self) { try CBORValue.decode(nestedArrays(2), maxDepth: 2) }
        expectCBORError(.tooDeep) { _ = try CBORValue.decode(nestedArrays(3), maxDepth: 2) }
        expectCBORError(.tooDeep) { _ = try CBORValue.decode([0x80], maxDepth: 0) }
        #expect(try CBORValue.decode([0x01], maxDepth: 0) == 1)
        expectCBORError(.tooDeep) { _ = try CBORValue.decode([0x80], maxDepth: -5) }
        // Clamped: asking for more than the limit gets the limit, never unbounded recursion.
        #expect(throws: Never.self) { try CBORValue.decode(nestedArrays(64), maxDepth: 1_000_000) }
        expectCBORError(.tooDeep) { _ = try CBORValue.decode(nestedArrays(65), maxDepth: 1_000_000) }
        // A very deep input is a clean error, not a stack overflow.
        expectCBORError(.tooDeep) { _ = try CBORValue.decode(nestedArrays(200_000), maxDepth: .max) }
        // Keys count as nested items too.
        expectCBORError(.tooDeep) { _ = try CBORValue.decode(testHex("a1 81 80 00"), maxDepth: 2) }
    }

    // MARK: - Acceptance: RFC 8949 Appendix A, decoded and re-encoded byte for byte

    static let appendixA: [(String, CBORValue)] = [
        ("00", 0), ("01", 1), ("0a", 10), ("17", 23), ("1818", 24), ("1819", 25), ("1864", 100),
        ("1903e8", 1000), ("1a000f4240", 1_000_000), ("1b000000e8d4a51000", 1_000_000_000_000),
        ("1bffffffffffffffff", .unsignedInteger(18_446_744_073_709_551_615)),
        ("3bffffffffffffffff", .negativeInteger(18_446_744_073_709_551_615)),  // -18446744073709551616
        ("20", -1), ("29", -10), ("3863", -100), ("3903e7", -1000),
        ("f4", false), ("f5", true), ("f6", .null),
        ("40", .byteString([])), ("4401020304", .byteString([1, 2, 3, 4])),
        ("60", ""), ("6161", "a"), ("6449455446", "IETF"), ("62225c", "\"\\"), ("62c3bc", "\u{00fc}"),
        ("63e6b0b4", "\u{6c34}"), ("64f0908591", "\u{10151}"),
        ("80", []), ("83010203", [1, 2, 3]), ("8301820203820405", [1, [2, 3], [4, 5]]),
        (
            "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
            .array((1...25).map { CBORValue($0) })
        ),
        ("a0", [:]), ("a201020304", [1: 2, 3: 4]), ("a26161016162820203", ["a": 1, "b": [2, 3]]),
        ("826161a161626163", ["a", ["b": "c"]]),
        ("a56161614161626142616361436164614461656145", ["a": "A", "b": "B", "c": "C", "d": "D", "e": "E"]),
    ]

    @Test("RFC 8949 Appendix A examples decode to the expected values and re-encode identically")
    func appendixAExamples() throws {
        for (hex, expected) in Self.appendixA {
            let bytes = testHex(hex)
            let decoded = try CBORValue.decode(bytes)
            #expect(decoded == expected, "\(hex)")
            #expect(decoded.encoded() == bytes, "\(hex)")
            #expect(expected.encoded() == bytes, "\(hex)")
        }
    }

    // MARK: - Accessors and the value model

    @Test("integer accessors cover the whole range exactly")
    func integers() throws {
        #expect(CBORValue(Int.min) == .negativeInteger(UInt64(Int.max)))
        #expect(CBORValue(Int.min).int == Int.min)
        #expect(CBORValue(Int.max).int == Int.max)
        #expect(CBORValue(-7) == .negativeInteger(6))
        #expect(CBORValue.negativeInteger(UInt64(Int.max) + 1).int == nil)  // -2^63 - 1
        #expect(CBORValue.unsignedInteger(UInt64(Int.max) + 1).int == nil)
        #expect(CBORValue.unsignedInteger(.max).uint64 == .max)
        #expect(CBORValue.negativeInteger(0).uint64 == nil)
        #expect(try CBORValue.decode(testHex("3b7fffffffffffffff")).int == Int.min)
        #expect(try CBORValue.decode(testHex("3b8000000000000000")).int == nil)
        #expect(CBORValue.textString("1").int == nil)
    }

    @Test("map subscripts find integer and text keys; other kinds answer nil")
    func subscripts() {
        let map: CBORValue = [1: 2, -1: "x", "fmt": "none", "n": .null]
        #expect(map[1] == 2)
        #expect(map[-1]?.text == "x")
        #expect(map["fmt"]?.text == "none")
        #expect(map["n"]?.isNull == true)
        #expect(map[2] == nil)
        #expect(map["FMT"] == nil)
        #expect(map.value(forKey: "fmt") == "none")
        #expect(CBORValue.array([1])[0] == nil)
        #expect(CBORValue.byteString([1]).bytes == [1])
        #expect(CBORValue.bool(true).bool == true)
        #expect(map.mapEntries?.count == 4)
        #expect(CBORValue.array([1]).array == [1])
    }

    @Test("text equality and lookups use UTF-8 bytes, not Unicode equivalence")
    func textIsBytes() throws {
        let kelvin = "\u{212A}"  // KELVIN SIGN, canonically equivalent to "K"
        #expect(kelvin == "K")  // Swift's String equality
        #expect(CBORValue.textString(kelvin) != CBORValue.textString("K"))
        #expect(Set([CBORValue.textString(kelvin), .textString("K")]).count == 2)
        // Both keys in one map are distinct keys, in canonical order ("K" is 2 bytes, Kelvin 4).
        let bytes = testHex("a2 614b 01 63e284aa 02")
        let map = try CBORValue.decode(bytes)
        #expect(map["K"] == 1)
        #expect(map[kelvin] == 2)
        #expect(map.encoded() == bytes)
        // Decomposed and precomposed forms stay distinct and round-trip exactly.
        let decomposed = testHex("63 65cc81")  // "e" + U+0301
        let precomposed = testHex("62 c3a9")  // U+00E9
        #expect(try CBORValue.decode(decomposed) != CBORValue.decode(precomposed))
        #expect(try CBORValue.decode(decomposed).encoded() == decomposed)
    }

    @Test("the encoder writes shortest heads and sorts map keys canonically")
    func encoder() throws {
        #expect(CBORValue(23).encoded() == [0x17])
        #expect(CBORValue(24).encoded() == [0x18, 24])
        #expect(CBORValue(255).encoded() == [0x18, 0xff])
        #expect(CBORValue(256).encoded() == [0x19, 0x01, 0x00])
        #expect(CBORValue(65536).encoded() == [0x1a, 0, 1, 0, 0])
        #expect(CBORValue.unsignedInteger(1 << 32).encoded() == [0x1b, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(CBORValue(-25).encoded() == [0x38, 24])
        #expect(CBORValue.byteString([UInt8](repeating: 7, count: 300)).encoded().prefix(3) == [0x59, 0x01, 0x2c])
        let unsorted: CBORValue = [24: 0, "b": 0, -1: 0, 1: 0, "aa": 0]
        let encoded = unsorted.encoded()
        #expect(encoded == testHex("a5 01 00 20 00 1818 00 6162 00 626161 00"))
        #expect(try CBORValue.decode(encoded) == [1: 0, -1: 0, 24: 0, "b": 0, "aa": 0])
        // Duplicate keys are written as given; the decoder then refuses them.
        let duplicated = CBORValue.map([.init(key: 1, value: 0), .init(key: 1, value: 1)])
        expectCBORError(.duplicateKey) { _ = try CBORValue.decode(duplicated.encoded()) }
    }

    @Test("errors compare by code and describe themselves")
    func errorModel() {
        let a = CBORError(.truncated, detail: "x", offset: 1)
        let b = CBORError(.truncated, detail: "y", offset: 9)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != CBORError(.tooDeep, detail: "x", offset: 1))
        #expect(a.description == "truncated at offset 1: x")
    }
}
