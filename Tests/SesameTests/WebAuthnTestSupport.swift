import Foundation
import Testing

@testable import Sesame

/// Decodes base64url (padding optional) for test fixtures. Test-only: the real module has its own `Base64URL`.
func testBase64URL(_ string: String) -> [UInt8]? {
    var base64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64.append("=") }
    return Data(base64Encoded: base64).map { [UInt8]($0) }
}

/// Decodes lowercase or uppercase hex, ignoring spaces, for test inputs.
func testHex(_ string: String) -> [UInt8] {
    let digits = Array(string.utf8).filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
    precondition(digits.count % 2 == 0, "odd hex length")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: preconditionFailure("not hex: \(c)")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

/// Lowercase hex of bytes, for messages.
func testHexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// A small, fast, deterministic generator (SplitMix64) so property tests are reproducible.
struct WebAuthnTestRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

/// Loads a fixture file from `Fixtures/webauthn/`.
func loadWebAuthnFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = try #require(
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/webauthn"),
        "missing fixture \(name)")
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// Reads a fixture file's text from `Fixtures/webauthn/`.
func loadWebAuthnFixtureText(_ name: String) throws -> String {
    let url = try #require(
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/webauthn"),
        "missing fixture \(name)")
    return try String(contentsOf: url, encoding: .utf8)
}

/// Asserts that `body` throws a ``CBORError`` with `code`.
func expectCBORError(
    _ code: CBORError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected CBORError.\(code), nothing was thrown. \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch let error as CBORError {
        #expect(error.code == code, "\(error.description) \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected CBORError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Asserts that `body` throws a ``WebAuthnDataError`` with `code`.
func expectWebAuthnError(
    _ code: WebAuthnDataError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record(
            "expected WebAuthnDataError.\(code), nothing was thrown. \(comment.map { "\($0)" } ?? "")",
            sourceLocation: sourceLocation)
    } catch let error as WebAuthnDataError {
        #expect(error.code == code, "\(error.description) \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected WebAuthnDataError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
}
