import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Sesame

/// Keys shared by the passkey tests (RSA generation is slow in debug builds).
enum PasskeyTestKeys {
    static let rsa2048 = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let rsa1024 = try! _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))

    static func ec2Map(_ key: P256.Signing.PublicKey, alg: Int = -7) -> CBORValue {
        let point = [UInt8](key.x963Representation)
        return [1: 2, 3: CBORValue(alg), -1: 1, -2: .byteString(Array(point[1..<33])), -3: .byteString(Array(point[33..<65]))]
    }

    static func okpMap(_ key: Curve25519.Signing.PublicKey, alg: Int = -8) -> CBORValue {
        [1: 1, 3: CBORValue(alg), -1: 6, -2: .byteString([UInt8](key.rawRepresentation))]
    }

    static func rsaMap(_ key: _RSA.Signing.PublicKey, alg: Int = -257) -> CBORValue {
        let primitives = try! key.getKeyPrimitives()
        return [
            1: 3, 3: CBORValue(alg), -1: .byteString(Self.minimal([UInt8](primitives.modulus))),
            -2: .byteString(Self.minimal([UInt8](primitives.publicExponent))),
        ]
    }

    static func minimal(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.drop { $0 == 0 }) }

    static func rsaSign(_ key: _RSA.Signing.PrivateKey, _ data: [UInt8]) -> [UInt8] {
        [UInt8](try! key.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation)
    }
}

@Suite("COSE credential public keys") struct COSEKeyTests {
    let message: [UInt8] = Array("authenticatorData || clientDataHash".utf8)

    // MARK: - Real keys and signatures

    @Test("an ES256 key built from a swift-crypto key verifies DER signatures and nothing else")
    func es256() throws {
        let privateKey = P256.Signing.PrivateKey()
        let bytes = PasskeyTestKeys.ec2Map(privateKey.publicKey).encoded()
        let key = try COSEKey(bytes: bytes)
        #expect(key.algorithm == .es256)
        #expect(key.bytes == bytes)
        let signature = try privateKey.signature(for: message)
        #expect(key.isValidSignature([UInt8](signature.derRepresentation), for: message))
        #expect(!key.isValidSignature([UInt8](signature.derRepresentation), for: message + [0]))
        // The raw r||s form is not what WebAuthn carries: rejected, not reinterpreted.
        #expect(!key.isValidSignature([UInt8](signature.rawRepresentation), for: message))
        var flipped = [UInt8](signature.derRepresentation)
        flipped[flipped.count - 1] ^= 1
        #expect(!key.isValidSignature(flipped, for: message))
        // DER with a trailing byte is not DER.
        #expect(!key.isValidSignature([UInt8](signature.derRepresentation) + [0], for: message))
        // Another key's signature.
        let other = try P256.Signing.PrivateKey().signature(for: message)
        #expect(!key.isValidSignature([UInt8](other.derRepresentation), for: message))
    }

    @Test("an EdDSA (Ed25519) key verifies 64-byte signatures and nothing else")
    func edDSA() throws {
        let privateKey = Curve25519.Signing.PrivateKey()
        let key = try COSEKey(bytes: PasskeyTestKeys.okpMap(privateKey.publicKey).encoded())
        #expect(key.algorithm == .edDSA)
        let signature = [UInt8](try privateKey.signature(for: message))
        #expect(key.isValidSignature(signature, for: message))
        #expect(!key.isValidSignature(signature, for: message.dropLast() + [0]))
        #expect(!key.isValidSignature(Array(signature.dropLast()), for: message))
        #expect(!key.isValidSignature(signature + [0], for: message))
    }

    @Test("an RS256 key verifies PKCS#1 v1.5 SHA-256 signatures and nothing else")
    func rs256() throws {
        let privateKey = PasskeyTestKeys.rsa2048
        let key = try COSEKey(bytes: PasskeyTestKeys.rsaMap(privateKey.publicKey).encoded())
        #expect(key.algorithm == .rs256)
        let signature = PasskeyTestKeys.rsaSign(privateKey, message)
        #expect(key.isValidSignature(signature, for: message))
        #expect(!key.isValidSignature(signature, for: message + [1]))
        // A PSS signature by the same key is not RS256.
        let pss = [UInt8](try privateKey.signature(for: message, padding: .PSS).rawRepresentation)
        #expect(!key.isValidSignature(pss, for: message))
        #expect(!key.isValidSignature(Array(signature.dropFirst()), for: message))
        #expect(!key.isValidSignature([0] + signature, for: message))
    }

    @Test("garbage signatures are false for every algorithm, never a trap", arguments: [0, 1, 2])
    func garbageSignatures(which: Int) throws {
        let bytes: [UInt8]
        switch which {
        case 0: bytes = PasskeyTestKeys.ec2Map(P256.Signing.PrivateKey().publicKey).encoded()
        case 1: bytes = PasskeyTestKeys.okpMap(Curve25519.Signing.PrivateKey().publicKey).encoded()
        default: bytes = PasskeyTestKeys.rsaMap(PasskeyTestKeys.rsa2048.publicKey).encoded()
        }
        let key = try COSEKey(bytes: bytes)
        var random = WebAuthnTestRandom(seed: UInt64(which))
        let candidates: [[UInt8]] = [
            [], [0x30], [0x30, 0x00], [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00],  // r = s = 0
            [0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00],  // BER indefinite length
            [UInt8](repeating: 0, count: 64), [UInt8](repeating: 0xff, count: 64),
            [UInt8](repeating: 0, count: 256), [UInt8](repeating: 0xff, count: 256),
            random.bytes(70), random.bytes(10_000),
        ]
        for candidate in candidates {
            #expect(!key.isValidSignature(candidate, for: message))
            #expect(!key.isValidSignature(candidate, for: []))
        }
    }

    // MARK: - Rejections

    @Test("unknown or unsupported algorithms are unsupportedAlgorithm", arguments: [-35, -36, -37, -47, -48, -49, -50, -19, -53, -65535, 1, 0])
    func unsupportedAlgorithms(alg: Int) {
        let key = P256.Signing.PrivateKey().publicKey
        expectWebAuthnError(.unsupportedAlgorithm, "alg \(alg)") {
            _ = try COSEKey(bytes: PasskeyTestKeys.ec2Map(key, alg: alg).encoded())
        }
    }

    @Test("kty, alg and crv must agree")
    func inconsistentParameters() {
        let ec = P256.Signing.PrivateKey().publicKey
        let ed = Curve25519.Signing.PrivateKey().publicKey
        let ecMap = PasskeyTestKeys.ec2Map(ec)
        let edMap = PasskeyTestKeys.okpMap(ed)
        let cases: [(String, CBORValue)] = [
            ("EC2 key with alg -8", Self.replacing(ecMap, 3, with: -8, dropping: [-3])),
            ("OKP key with alg -7", Self.replacing(Self.adding(edMap, -3, .byteString([UInt8](repeating: 1, count: 32))), 3, with: -7)),
            ("EC2 parameters with kty OKP", Self.replacing(ecMap, 1, with: 1)),
            ("EC2 parameters with kty RSA", Self.replacing(ecMap, 1, with: 3)),
            ("EC2 with crv P-384", Self.replacing(ecMap, -1, with: 2)),
            ("EC2 with crv Ed25519", Self.replacing(ecMap, -1, with: 6)),
            ("OKP with crv Ed448", Self.replacing(edMap, -1, with: 7)),
            ("OKP with crv X25519", Self.replacing(edMap, -1, with: 4)),
            ("OKP with kty EC2", Self.replacing(edMap, 1, with: 2)),
            ("kty as text", Self.replacing(ecMap, 1, with: "EC2")),
            ("crv as text", Self.replacing(ecMap, -1, with: "P-256")),
            ("alg as text", Self.replacing(ecMap, 3, with: "ES256")),
            ("no alg", Self.removing(ecMap, 3)),
            ("no kty", Self.removing(ecMap, 1)),
            ("no crv", Self.removing(ecMap, -1)),
            ("no x", Self.removing(ecMap, -2)),
            ("no y", Self.removing(ecMap, -3)),
            ("compressed point (y as bool)", Self.replacing(ecMap, -3, with: true)),
            ("kid (2) present", Self.adding(ecMap, 2, .byteString([1, 2, 3]))),
            ("key_ops (4) present", Self.adding(ecMap, 4, [1])),
            ("d (-4) present", Self.adding(ecMap, -4, .byteString([UInt8](repeating: 1, count: 32)))),
            ("OKP with a y", Self.adding(edMap, -3, .byteString([UInt8](repeating: 1, count: 32)))),
            ("text label", Self.adding(ecMap, "kid", 1)),
            ("not a map", [1, 2, 3]),
        ]
        for (name, map) in cases {
            expectWebAuthnError(.invalidPublicKey, "\(name)") { _ = try COSEKey(bytes: map.encoded()) }
        }
    }

    @Test("coordinates must be exactly 32 bytes and the point must be on P-256")
    func badPoints() throws {
        let ecMap = PasskeyTestKeys.ec2Map(P256.Signing.PrivateKey().publicKey)
        let x = try #require(ecMap[-2]?.bytes)
        let y = try #require(ecMap[-3]?.bytes)
        let p256Prime = testHex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")
        var yPlusOne = y
        yPlusOne[31] &+= 1
        let cases: [(String, CBORValue)] = [
            ("31-byte x", Self.replacing(ecMap, -2, with: .byteString(Array(x.dropFirst())))),
            ("33-byte x", Self.replacing(ecMap, -2, with: .byteString([0] + x))),
            ("31-byte y", Self.replacing(ecMap, -3, with: .byteString(Array(y.dropFirst())))),
            ("33-byte y", Self.replacing(ecMap, -3, with: .byteString(y + [0]))),
            ("empty x", Self.replacing(ecMap, -2, with: .byteString([]))),
            ("off-curve point", Self.replacing(ecMap, -3, with: .byteString(yPlusOne))),
            ("all-zero point", Self.replacing(Self.replacing(ecMap, -2, with: .byteString(.init(repeating: 0, count: 32))), -3, with: .byteString(.init(repeating: 0, count: 32)))),
            ("x = p", Self.replacing(ecMap, -2, with: .byteString(p256Prime))),
            ("x as integer", Self.replacing(ecMap, -2, with: 5)),
        ]
        for (name, map) in cases {
            expectWebAuthnError(.invalidPublicKey, "\(name)") { _ = try COSEKey(bytes: map.encoded()) }
        }
        // A 31-byte x and a 33-byte y that concatenate to the real point: the lengths alone must reject it.
        let shifted = Self.replacing(
            Self.replacing(ecMap, -2, with: .byteString(Array(x.dropLast()))), -3, with: .byteString([x[31]] + y))
        expectWebAuthnError(.invalidPublicKey, "compensating lengths") { _ = try COSEKey(bytes: shifted.encoded()) }
        let edMap = PasskeyTestKeys.okpMap(Curve25519.Signing.PrivateKey().publicKey)
        let edX = try #require(edMap[-2]?.bytes)
        expectWebAuthnError(.invalidPublicKey, "31-byte Ed25519 key") {
            _ = try COSEKey(bytes: Self.replacing(edMap, -2, with: .byteString(Array(edX.dropLast()))).encoded())
        }
        expectWebAuthnError(.invalidPublicKey, "33-byte Ed25519 key") {
            _ = try COSEKey(bytes: Self.replacing(edMap, -2, with: .byteString(edX + [0])).encoded())
        }
    }

    @Test("RSA keys need a 2048-8192-bit minimal modulus and an odd exponent above 1")
    func badRSAKeys() throws {
        let good = PasskeyTestKeys.rsaMap(PasskeyTestKeys.rsa2048.publicKey)
        let n = try #require(good[-1]?.bytes)
        #expect(n.count == 256)
        let cases: [(String, CBORValue)] = [
            ("1024-bit modulus", PasskeyTestKeys.rsaMap(PasskeyTestKeys.rsa1024.publicKey)),
            ("2047-bit modulus", Self.replacing(good, -1, with: .byteString([0x7f] + n.dropFirst()))),
            ("8200-bit modulus", Self.replacing(good, -1, with: .byteString([UInt8](repeating: 0xff, count: 1025)))),
            ("modulus with a leading zero", Self.replacing(good, -1, with: .byteString([0] + n))),
            ("even exponent 65536", Self.replacing(good, -2, with: .byteString([1, 0, 0]))),
            ("exponent 1", Self.replacing(good, -2, with: .byteString([1]))),
            ("exponent with a leading zero", Self.replacing(good, -2, with: .byteString([0, 1, 0, 1]))),
            ("empty exponent", Self.replacing(good, -2, with: .byteString([]))),
            ("exponent as integer", Self.replacing(good, -2, with: 65537)),
            ("huge exponent", Self.replacing(good, -2, with: .byteString([UInt8](repeating: 0xff, count: 9)))),
            ("no modulus", Self.removing(good, -1)),
            ("no exponent", Self.removing(good, -2)),
            ("crv on an RSA key", Self.adding(good, -3, 1)),
        ]
        for (name, map) in cases {
            expectWebAuthnError(.invalidPublicKey, "\(name)") { _ = try COSEKey(bytes: map.encoded()) }
        }
        #expect(throws: Never.self) { try COSEKey(bytes: good.encoded()) }
    }

    @Test("the RSA parameter rules hold on their own, before the crypto backend sees the key")
    func rsaParameterRules() throws {
        let n = [UInt8](try PasskeyTestKeys.rsa2048.publicKey.getKeyPrimitives().modulus)
        let e: [UInt8] = [1, 0, 1]
        #expect(throws: Never.self) { try COSEKey.checkRSAParameters(modulus: n, exponent: e) }
        #expect(throws: Never.self) { try COSEKey.checkRSAParameters(modulus: [0x80] + [UInt8](repeating: 1, count: 1023), exponent: [3]) }
        let cases: [(String, [UInt8], [UInt8])] = [
            ("2047 bits", [0x7f] + n.dropFirst(), e),
            ("8193 bits", [0x01] + [UInt8](repeating: 0xff, count: 1024), e),
            ("empty modulus", [], e),
            ("modulus with a leading zero", [0] + n, e),
            ("empty exponent", n, []),
            ("exponent with a leading zero", n, [0, 1, 0, 1]),
            ("even exponent", n, [1, 0, 0]),
            ("exponent 1", n, [1]),
            ("exponent of 9 bytes", n, [1, 0, 0, 0, 0, 0, 0, 0, 1]),
        ]
        for (name, modulus, exponent) in cases {
            expectWebAuthnError(.invalidPublicKey, "\(name)") { try COSEKey.checkRSAParameters(modulus: modulus, exponent: exponent) }
        }
    }

    @Test("key bytes must be exactly one canonical CBOR map")
    func encodingRules() throws {
        let bytes = PasskeyTestKeys.ec2Map(P256.Signing.PrivateKey().publicKey).encoded()
        expectWebAuthnError(.malformedCBOR) { _ = try COSEKey(bytes: bytes + [0]) }
        expectWebAuthnError(.malformedCBOR) { _ = try COSEKey(bytes: Array(bytes.dropLast())) }
        expectWebAuthnError(.malformedCBOR) { _ = try COSEKey(bytes: []) }
        // Swap the first two entries (1: 2 and 3: -7) so the keys are out of order.
        var unordered = bytes
        unordered.replaceSubrange(1..<5, with: [0x03, 0x26, 0x01, 0x02])
        do {
            _ = try COSEKey(bytes: unordered)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .malformedCBOR)
            #expect(error.cborError?.code == .unorderedKeys)
        }
    }

    @Test("keys compare and hash by their bytes")
    func equality() throws {
        let map = PasskeyTestKeys.ec2Map(P256.Signing.PrivateKey().publicKey)
        let a = try COSEKey(bytes: map.encoded())
        let b = try COSEKey(bytes: map.encoded())
        let c = try COSEKey(bytes: PasskeyTestKeys.ec2Map(P256.Signing.PrivateKey().publicKey).encoded())
        #expect(a == b)
        #expect(Set([a, b, c]).count == 2)
    }

    // MARK: - Helpers

    static func replacing(_ map: CBORValue, _ label: Int, with value: CBORValue, dropping: [Int] = []) -> CBORValue {
        .map((map.mapEntries ?? []).compactMap { entry in
            if let int = entry.key.int, dropping.contains(int) { return nil }
            return entry.key == CBORValue(label) ? .init(key: entry.key, value: value) : entry
        })
    }

    static func removing(_ map: CBORValue, _ label: Int) -> CBORValue {
        .map((map.mapEntries ?? []).filter { $0.key != CBORValue(label) })
    }

    static func adding(_ map: CBORValue, _ key: CBORValue, _ value: CBORValue) -> CBORValue {
        .map((map.mapEntries ?? []) + [.init(key: key, value: value)])
    }
}
