import Testing
@testable import Sesame

@Suite struct JSONTests {
    @Test func parsesAndWritesBack() throws {
        let text = #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-0.5,"e":{"f":"é"}}"#
        let value = try JSONValue(parsing: text)
        #expect(value["a"] == .integer(1))
        #expect(value["d"] == .double(-0.5))
        #expect(value["c"] == .string("x\"y\\z\n"))
        #expect(value["e"]?["f"] == .string("é"))
        #expect(try JSONValue(parsing: value.jsonString) == value)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue(parsing: #""\u00e9\ud83d\ude00\/""#) == .string("é😀/"))
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#,          // duplicate member
        #"{"a":1}x"#,               // trailing data
        #"{"a":01}"#,               // leading zero
        #"{"a":"\ud800"}"#,         // lone surrogate
        #"{"a":"\x"}"#,             // bad escape
        "{\"a\":\"\u{1}\"}",        // raw control character
        #"{"a":1,}"#,               // trailing comma
        #"{'a':1}"#,                // single quotes
        #"[1,2"#,                   // unterminated
        #"{"a":1e999}"#,            // out of range
        "",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        let fine = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(throws: Never.self) { try JSONValue(parsing: fine) }
    }

    @Test func rejectsDuplicatesInLargeObjects() {
        let members = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(throws: Never.self) { try JSONValue(parsing: "{\(members)}") }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "{\(members),\"k7\":1}") }
    }

    struct Sample: Codable, Equatable {
        var name: String
        var count: Int
        var ratio: Double
        var tags: [String]
        var nested: [String: Int]
        var optional: String?
    }

    @Test func codableRoundTrip() throws {
        let sample = Sample(name: "n", count: 3, ratio: 0.25, tags: ["a", "b"], nested: ["x": 1], optional: nil)
        let tree = try JSONValueEncoder().encode(sample)
        #expect(tree["optional"] == nil)
        #expect(try JSONValueDecoder().decode(Sample.self, from: tree) == sample)
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Sample.self, from: ["name": "n"]) }
        // An integer claim that does not fit the property's type is an error, not a truncation.
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(UInt8.self, from: .integer(300)) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int.self, from: .double(1.5)) }
    }
}
