import Foundation
import Testing

@testable import Sesame

/// Time-based one-time passwords (RFC 6238): the RFC's vectors, an independent implementation (pyotp), and the
/// refusals: wrong codes, codes outside ±1 step, replays, malformed input.
@Suite(.timeLimit(.minutes(2))) struct TOTPTests {
    static let rfcSecret = Array("12345678901234567890".utf8)

    @Test func matchesRFC6238() {
        // RFC 6238 Appendix B, SHA-1, 8 digits.
        let factor = TOTPFactor(secret: Self.rfcSecret, digits: 8)
        let vectors: [(Double, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        for (time, code) in vectors {
            #expect(factor.code(at: Date(timeIntervalSince1970: time)) == code, "T = \(time)")
        }
    }

    @Test func agreesWithPyotpAtStepBoundaries() async throws {
        let factor = TOTPFactor(secret: TOTPFactor.generateSecret())
        let base = 1_700_000_010.0
        // Each side of several step boundaries, and far ahead.
        let times = [base, base + 19, base + 20, base + 49, base + 50, base + 29.999, 4_102_444_800, 59, 60]
        let uri = factor.uri(issuer: "Sesame Demo", account: "ada+2fa@example.com")
        let answer = try await InteropTests.runHelper("totp_codes.py", [
            "secret": .string(Base32Text.encode(factor.secret)), "digits": 6, "period": 30,
            "times": .array(times.map { .integer(Int64($0.rounded(.down))) }), "uri": .string(uri),
        ])
        let codes = answer["codes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(codes == times.map { factor.code(at: Date(timeIntervalSince1970: $0.rounded(.down))) })
        // pyotp reads the URI Sesame writes as the same factor.
        #expect(answer["uri"]?["secret"]?.stringValue == Base32Text.encode(factor.secret))
        #expect(answer["uri"]?["issuer"]?.stringValue == "Sesame Demo")
        #expect(answer["uri"]?["name"]?.stringValue == "ada+2fa@example.com")
        #expect(answer["uri"]?["digits"]?.doubleValue == 6 && answer["uri"]?["period"]?.doubleValue == 30)
        #expect(answer["uri"]?["digest"]?.stringValue == "sha1")
    }

    @Test func acceptsOneStepEitherSideOnlyAndNeverTwice() {
        let factor = TOTPFactor(secret: Self.rfcSecret)
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let step = factor.step(at: now)
        let at = { (offset: Int64) in factor.code(step: step + offset) }
        #expect(factor.verify(at(0), at: now, after: nil) == step)
        #expect(factor.verify(at(-1), at: now, after: nil) == step - 1, "a clock 30 s behind")
        #expect(factor.verify(at(1), at: now, after: nil) == step + 1, "a clock 30 s ahead")
        #expect(factor.verify(at(-2), at: now, after: nil) == nil)
        #expect(factor.verify(at(2), at: now, after: nil) == nil)
        // A code is used once: its step, and every earlier one, are refused afterwards.
        #expect(factor.verify(at(0), at: now, after: step) == nil, "replay")
        #expect(factor.verify(at(-1), at: now, after: step) == nil, "an older code after a newer one")
        #expect(factor.verify(at(1), at: now, after: step) == step + 1)
        #expect(factor.verify(at(0), at: now, after: step - 1) == step)
    }

    @Test(arguments: ["", "12345", "1234567", " 123456", "123456 ", "12345a", "１２３４５６", "-12345", "+12345", "12 456", "0x1234"])
    func malformedCodesAreRefused(_ code: String) {
        let factor = TOTPFactor(secret: Self.rfcSecret)
        #expect(factor.verify(code, at: Date(timeIntervalSince1970: 1_700_000_015), after: nil) == nil)
    }

    @Test func aWrongCodeIsRefused() {
        let factor = TOTPFactor(secret: Self.rfcSecret)
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let step = factor.step(at: now)
        let valid = Set((-1...1).map { factor.code(step: step + $0) })
        let wrong = (0..<1_000_000).lazy.map { String(format: "%06d", $0) }.first { !valid.contains($0) }!
        #expect(factor.verify(wrong, at: now, after: nil) == nil)
        // Another secret's code is another code.
        let other = TOTPFactor(secret: Array("abcdefghijklmnopqrst".utf8))
        let theirs = other.code(at: now)
        #expect(valid.contains(theirs) || factor.verify(theirs, at: now, after: nil) == nil)
    }

    @Test func secretsAre160RandomBits() {
        let secrets = (0..<50).map { _ in TOTPFactor.generateSecret() }
        #expect(secrets.allSatisfy { $0.count == 20 })
        #expect(Set(secrets).count == 50)
    }

    @Test func base32RoundTripsAndRefusesNonCanonicalText() {
        for length in 0...21 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base32Text.decode(Base32Text.encode(bytes)) == bytes)
        }
        #expect(Base32Text.encode(Array("foobar".utf8)) == "MZXW6YTBOI")  // RFC 4648 §10
        #expect(Base32Text.decode("mzxw6ytboi") == Array("foobar".utf8))
        #expect(Base32Text.decode("MZXW6YTBOI======") == nil, "no padding")
        #expect(Base32Text.decode("MZXW6YTBO1") == nil, "1 is not in the alphabet")
        #expect(Base32Text.decode("MZXW6YTBOJ") == nil, "non-zero trailing bits")
        #expect(Base32Text.decode("MZXW 6YTBOI") == nil)
    }

    @Test func secretsAreSealedForOneUser() throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let factor = TOTPFactor(secret: TOTPFactor.generateSecret(), digits: 8, period: 60)
        let sealed = try factor.sealed(with: keys, userID: "user-1")
        let inTheClear = (0...(sealed.count - factor.secret.count)).contains { sealed[$0..<($0 + factor.secret.count)].elementsEqual(factor.secret) }
        #expect(!inTheClear, "the secret is not stored in the clear")
        let opened = try #require(TOTPFactor(sealed: sealed, keys: keys, userID: "user-1"))
        #expect(opened.secret == factor.secret && opened.digits == 8 && opened.period == 60)
        // Another user's row, another key set, or a flipped bit: nothing opens.
        #expect(TOTPFactor(sealed: sealed, keys: keys, userID: "user-2") == nil)
        #expect(TOTPFactor(sealed: sealed, keys: try KeySet(activeKey: JWK.generate(.es256)), userID: "user-1") == nil)
        for index in [0, 1, 13, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(TOTPFactor(sealed: tampered, keys: keys, userID: "user-1") == nil, "byte \(index)")
        }
        #expect(TOTPFactor(sealed: Array(sealed.prefix(20)), keys: keys, userID: "user-1") == nil)
        #expect(TOTPFactor(sealed: [], keys: keys, userID: "user-1") == nil)
    }
}
