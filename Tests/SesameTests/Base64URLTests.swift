import Testing
@testable import Sesame

@Suite struct Base64URLTests {
    @Test func roundTripsEveryLength() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) & 0xFF) }
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("="))
            #expect(!encoded.contains("+") && !encoded.contains("/"))
            #expect(Base64URL.decode(encoded) == bytes)
        }
    }

    @Test func knownValues() {
        // RFC 4648 §10 vectors, in the URL-safe unpadded alphabet.
        #expect(Base64URL.encode(Array("f".utf8)) == "Zg")
        #expect(Base64URL.encode(Array("fo".utf8)) == "Zm8")
        #expect(Base64URL.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test(arguments: [
        "Zg==",      // padding
        "Zm9v YmFy", // whitespace
        "Zm9v+mFy",  // standard alphabet
        "Zm9v/mFy",
        "Z",         // impossible length
        "Zh",        // non-zero trailing bits (canonical is Zg)
        "Zm9",       // non-zero trailing bits (canonical is Zm8)
        "Zm9vYmF\u{0}",
        "Zm9vYmFé",
    ])
    func rejectsNonCanonical(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}
