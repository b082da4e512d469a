import Foundation
import Testing

@testable import Sesame

/// Random and mutated inputs: decoding never traps, either succeeds or throws ``CBORError``, and whatever decodes
/// re-encodes to exactly the bytes it came from (the accepted subset is canonical, so one value has one encoding).
@Suite("CBOR properties") struct CBORPropertyTests {
    /// Decodes `bytes` and checks the canonical round trip. Returns whether it decoded.
    @discardableResult
    static func checkRoundTrip(_ bytes: [UInt8]) -> Bool {
        do {
            let value = try CBORValue.decode(bytes)
            #expect(value.encoded() == bytes, "round trip of \(testHexString(bytes.prefix(64)))")
            return true
        } catch {
            // The type system already guarantees a CBORError; check it carries a sane offset.
            #expect(error.offset >= 0 && error.offset <= bytes.count, "\(error)")
            return false
        }
    }

    @Test("20,000 random byte strings decode or fail cleanly; successes round-trip")
    func randomBytes() {
        var random = WebAuthnTestRandom(seed: 0x5E5A_3E00_CB0F)
        var decoded = 0
        for iteration in 0..<20_000 {
            // Mostly short inputs (where valid CBOR is likely), some longer ones.
            let length = iteration % 10 == 0 ? Int.random(in: 0...512, using: &random) : Int.random(in: 0...12, using: &random)
            var bytes = random.bytes(length)
            // Bias some first bytes towards containers, so nesting and maps are exercised.
            if iteration % 3 == 0, !bytes.isEmpty { bytes[0] = [0x81, 0x82, 0xa1, 0xa2, 0x98, 0xb8][iteration % 6] }
            if Self.checkRoundTrip(bytes) { decoded += 1 }
            // The prefix decoder agrees with the whole decoder on what it consumed.
            if let prefix = try? CBORValue.decodePrefix(bytes) {
                #expect(prefix.byteCount <= bytes.count)
                #expect(prefix.value.encoded() == Array(bytes.prefix(prefix.byteCount)))
            }
        }
        #expect(decoded > 200, "the generator should hit valid CBOR sometimes (decoded \(decoded))")
    }

    @Test("5,000 random values encode canonically and decode back to themselves")
    func randomValues() throws {
        var random = WebAuthnTestRandom(seed: 0xC0DE_CB0F)
        for _ in 0..<5_000 {
            let value = Self.randomValue(depth: 0, using: &random)
            let encoded = value.encoded()
            let decoded = try CBORValue.decode(encoded)
            // Maps come back in canonical key order, so compare encodings and sorted-map equality.
            #expect(decoded.encoded() == encoded)
            #expect(Self.canonicalized(decoded) == Self.canonicalized(value))
        }
    }

    /// A random value with unique map keys, at most 6 levels deep.
    static func randomValue(depth: Int, using random: inout WebAuthnTestRandom) -> CBORValue {
        let choice = Int.random(in: 0..<(depth >= 6 ? 6 : 8), using: &random)
        switch choice {
        case 0:
            let magnitude = [UInt64(24), 256, 65_536, 1 << 32, .max][Int.random(in: 0..<5, using: &random)]
            return .unsignedInteger(UInt64.random(in: 0...magnitude, using: &random))
        case 1:
            return .negativeInteger(UInt64.random(in: 0...UInt64.max >> UInt64.random(in: 0...63, using: &random), using: &random))
        case 2:
            return .byteString(random.bytes(Int.random(in: 0...40, using: &random)))
        case 3:
            let scalars = (0..<Int.random(in: 0...12, using: &random)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &random))
            }
            return .textString(String(String.UnicodeScalarView(scalars)))
        case 4:
            return .bool(Bool.random(using: &random))
        case 5:
            return .null
        case 6:
            return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            var entries: [CBORValue.MapEntry] = []
            var keys = Set<CBORValue>()
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                let key = randomValue(depth: depth + 1, using: &random)
                if keys.insert(key).inserted {
                    entries.append(.init(key: key, value: randomValue(depth: depth + 1, using: &random)))
                }
            }
            return .map(entries)
        }
    }

    /// The value with every map's entries in canonical key order.
    static func canonicalized(_ value: CBORValue) -> CBORValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(canonicalized))
        case .map(let entries):
            let sorted = entries.map { CBORValue.MapEntry(key: canonicalized($0.key), value: canonicalized($0.value)) }
                .sorted { a, b in
                    let x = a.key.encoded(), y = b.key.encoded()
                    return x.count != y.count ? x.count < y.count : x.lexicographicallyPrecedes(y)
                }
            return .map(sorted)
        default:
            return value
        }
    }

    @Test("20,000 mutations of real attestation objects decode or fail cleanly; successes round-trip")
    func mutatedAttestationObjects() throws {
        let originals = try allFixtureAttestationObjects()
        #expect(originals.count >= 25)
        for original in originals { #expect(Self.checkRoundTrip(original), "fixture decodes") }
        var random = WebAuthnTestRandom(seed: 0xA77E_57A7_1047)
        var decoded = 0
        for _ in 0..<20_000 {
            let original = originals[Int.random(in: 0..<originals.count, using: &random)]
            let mutated = Self.mutate(original, using: &random)
            if Self.checkRoundTrip(mutated) { decoded += 1 }
            // The WebAuthn layers above never trap either: a clean WebAuthnDataError or a parsed object.
            if let object = try? AttestationObject(bytes: mutated) {
                _ = try? object.verify(clientDataHash: [UInt8](repeating: 0, count: 32))
            }
        }
        #expect(decoded > 100, "some mutations (inside byte strings) still decode (decoded \(decoded))")
    }

    @Test("5,000 mutations of authenticator data inside well-formed attestation objects fail cleanly")
    func mutatedAuthenticatorData() throws {
        let originals = try allFixtureAttestationObjects().compactMap { bytes -> (CBORValue, [UInt8])? in
            guard let value = try? CBORValue.decode(bytes), let authData = value["authData"]?.bytes else { return nil }
            return (value, authData)
        }
        var random = WebAuthnTestRandom(seed: 0xAD17_DA7A)
        for _ in 0..<5_000 {
            let (object, authData) = originals[Int.random(in: 0..<originals.count, using: &random)]
            let mutatedAuthData = Self.mutate(authData, using: &random)
            _ = try? AuthenticatorData(bytes: mutatedAuthData)
            guard case .map(var entries) = object else { continue }
            for index in entries.indices where entries[index].key == "authData" {
                entries[index].value = .byteString(mutatedAuthData)
            }
            let rebuilt = CBORValue.map(entries).encoded()
            if let parsed = try? AttestationObject(bytes: rebuilt) {
                #expect(parsed.authenticatorData.raw == mutatedAuthData)
                _ = try? parsed.verify(clientDataHash: [UInt8](repeating: 1, count: 32))
            }
        }
    }

    /// One random mutation: bit flips, a truncation, an insertion, a deletion or an overwrite.
    static func mutate(_ input: [UInt8], using random: inout WebAuthnTestRandom) -> [UInt8] {
        var bytes = input
        switch Int.random(in: 0..<6, using: &random) {
        case 0:  // flip 1-3 bits
            for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &random)
            }
        case 1:  // truncate
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
        case 2:  // insert 1-8 random bytes
            let index = Int.random(in: 0...bytes.count, using: &random)
            bytes.insert(contentsOf: random.bytes(Int.random(in: 1...8, using: &random)), at: index)
        case 3:  // delete a short run
            if !bytes.isEmpty {
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let end = min(bytes.count, start + Int.random(in: 1...8, using: &random))
                bytes.removeSubrange(start..<end)
            }
        case 4:  // overwrite a byte with an interesting value
            if !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] = [0x00, 0x17, 0x18, 0x1b, 0x1f, 0x5b, 0x7f, 0x9f, 0xbb, 0xbf, 0xc0, 0xf7, 0xfb, 0xff][
                    Int.random(in: 0..<14, using: &random)]
            }
        default:  // append trailing bytes
            bytes.append(contentsOf: random.bytes(Int.random(in: 1...4, using: &random)))
        }
        return bytes
    }
}
