import Crypto
import Foundation
import Testing
import X509
import _CryptoExtras

@testable import Sesame

@Suite("Attestation objects") struct AttestationObjectTests {
    typealias Factory = AttestationTestFactory
    let hash = AttestationTestFactory.clientDataHash

    // MARK: - Structure

    @Test("the object must be a map of exactly fmt, attStmt and authData of the right kinds")
    func structure() throws {
        let authData = AuthenticatorDataBuilder.registration().bytes
        let good: CBORValue = ["fmt": "none", "attStmt": [:], "authData": .byteString(authData)]
        let parsed = try AttestationObject(bytes: good.encoded())
        #expect(parsed.format == "none")
        #expect(parsed.authenticatorData.raw == authData)
        #expect(parsed.credential.credentialID == Array(0...31))
        #expect(parsed.raw == good.encoded())

        let malformed: [(String, CBORValue)] = [
            ("an array", ["none", [:], .byteString(authData)]),
            ("no fmt", ["attStmt": [:], "authData": .byteString(authData)]),
            ("no attStmt", ["fmt": "none", "authData": .byteString(authData)]),
            ("no authData", ["fmt": "none", "attStmt": [:]]),
            ("an extra member", ["fmt": "none", "attStmt": [:], "authData": .byteString(authData), "ep": true]),
            ("an integer key", ["fmt": "none", "attStmt": [:], "authData": .byteString(authData), 1: 1]),
            ("fmt as bytes", ["fmt": .byteString(Array("none".utf8)), "attStmt": [:], "authData": .byteString(authData)]),
            ("empty fmt", ["fmt": "", "attStmt": [:], "authData": .byteString(authData)]),
            ("attStmt as an array", ["fmt": "none", "attStmt": [], "authData": .byteString(authData)]),
            ("authData as text", ["fmt": "none", "attStmt": [:], "authData": "x"]),
            ("authData without AT", ["fmt": "none", "attStmt": [:], "authData": .byteString(AuthenticatorDataBuilder().bytes)]),
            ("\"FMT\" instead of \"fmt\"", ["FMT": "none", "attStmt": [:], "authData": .byteString(authData)]),
        ]
        for (name, value) in malformed {
            expectWebAuthnError(.malformedAttestation, "\(name)") { _ = try AttestationObject(bytes: value.encoded()) }
        }
        expectWebAuthnError(.malformedCBOR) { _ = try AttestationObject(bytes: []) }
        expectWebAuthnError(.malformedCBOR) { _ = try AttestationObject(bytes: good.encoded() + [0]) }
        // The same members in non-canonical order.
        let reordered = testHex("a3 6761747453746d74 a0 63666d74 646e6f6e65") + good.encoded().suffix(from: 19)
        expectWebAuthnError(.malformedCBOR) { _ = try AttestationObject(bytes: reordered) }
        // Authenticator data errors pass through.
        var badAuthData = AuthenticatorDataBuilder.registration()
        badAuthData.trailing = [0]
        expectWebAuthnError(.malformedAuthenticatorData) {
            _ = try AttestationObject(bytes: (["fmt": "none", "attStmt": [:], "authData": .byteString(badAuthData.bytes)] as CBORValue).encoded())
        }
    }

    // MARK: - none

    @Test("none: an empty statement verifies; anything in it, or required trust, does not")
    func none() throws {
        let authData = AuthenticatorDataBuilder.registration().bytes
        let object = try AttestationObject(bytes: (["fmt": "none", "attStmt": [:], "authData": .byteString(authData)] as CBORValue).encoded())
        let result = try object.verify(clientDataHash: hash)
        #expect(result.type == .none)
        #expect(result.format == "none")
        #expect(result.aaguid == Array(0x10...0x1f))
        #expect(result.certificates.isEmpty)
        #expect(!result.trustPathVerified)
        #expect(result.credential == object.credential)

        let withMember = try AttestationObject(
            bytes: (["fmt": "none", "attStmt": ["sig": .byteString([1])], "authData": .byteString(authData)] as CBORValue).encoded())
        expectWebAuthnError(.malformedAttestation) { _ = try withMember.verify(clientDataHash: hash) }
        expectWebAuthnError(.untrustedAttestation) {
            _ = try object.verify(clientDataHash: hash, trustAnchors: [Factory.root().certificate])
        }
        expectWebAuthnError(.untrustedAttestation) { _ = try object.verify(clientDataHash: hash, trustAnchors: []) }
        expectWebAuthnError(.malformedAttestation, "31-byte client data hash") {
            _ = try object.verify(clientDataHash: Array(hash.dropLast()))
        }
        expectWebAuthnError(.malformedAttestation, "empty client data hash") { _ = try object.verify(clientDataHash: []) }
    }

    @Test("formats other than none and packed are unsupported", arguments: ["tpm", "android-key", "android-safetynet", "apple", "fido-u2f", "Packed", "none ", "x"])
    func unsupportedFormats(format: String) throws {
        let bytes = Factory.attestationObject(format: format, credential: .p256(P256.Signing.PrivateKey())) { _ in [:] }
        let object = try AttestationObject(bytes: bytes)
        expectWebAuthnError(.unsupportedAttestationFormat) { _ = try object.verify(clientDataHash: hash) }
    }

    // MARK: - packed, self attestation

    @Test("packed self attestation verifies for all three algorithms")
    func packedSelf() throws {
        for signer in [Factory.Signer.p256(P256.Signing.PrivateKey()), .ed25519(Curve25519.Signing.PrivateKey()), .rsa(PasskeyTestKeys.rsa2048)] {
            let object = try AttestationObject(bytes: Factory.packedSelf(credential: signer))
            let result = try object.verify(clientDataHash: hash)
            #expect(result.type == .selfAttestation)
            #expect(result.format == "packed")
            #expect(result.certificates.isEmpty)
            #expect(result.credential.publicKey.algorithm.rawValue == signer.algorithm)
            // The signature covers the client data hash.
            expectWebAuthnError(.invalidAttestationSignature) { _ = try object.verify(clientDataHash: sha256(hash)) }
            // Self attestation is never trusted.
            expectWebAuthnError(.untrustedAttestation) {
                _ = try object.verify(clientDataHash: hash, trustAnchors: [Factory.root().certificate])
            }
        }
    }

    @Test("packed self attestation: alg must be the credential key's, and the signature must verify")
    func packedSelfRejections() throws {
        let signer = Factory.Signer.p256(P256.Signing.PrivateKey())
        let mismatched = try AttestationObject(bytes: Factory.packedSelf(credential: signer, alg: -257))
        expectWebAuthnError(.invalidAttestationSignature) { _ = try mismatched.verify(clientDataHash: hash) }
        let mismatchedEd = try AttestationObject(bytes: Factory.packedSelf(credential: signer, alg: -8))
        expectWebAuthnError(.invalidAttestationSignature) { _ = try mismatchedEd.verify(clientDataHash: hash) }
        let unknown = try AttestationObject(bytes: Factory.packedSelf(credential: signer, alg: -35))
        expectWebAuthnError(.unsupportedAlgorithm) { _ = try unknown.verify(clientDataHash: hash) }
        let otherKey = try AttestationObject(
            bytes: Factory.attestationObject(credential: signer) { authData in
                ["alg": -7, "sig": .byteString(Factory.Signer.p256(P256.Signing.PrivateKey()).sign(authData + hash))]
            })
        expectWebAuthnError(.invalidAttestationSignature) { _ = try otherKey.verify(clientDataHash: hash) }
        // One flipped signature byte.
        var bytes = Factory.packedSelf(credential: signer)
        let object = try AttestationObject(bytes: bytes)
        let signature = try #require(object.attestationStatement["sig"]?.bytes)
        let range = try #require(Self.range(of: signature, in: bytes))
        bytes[range.lowerBound + 10] ^= 0x01
        expectWebAuthnError(.invalidAttestationSignature) { _ = try AttestationObject(bytes: bytes).verify(clientDataHash: hash) }
    }

    @Test("packed statements need alg and sig of the right kinds and nothing unknown")
    func packedStatementShape() throws {
        let signer = Factory.Signer.p256(P256.Signing.PrivateKey())
        let cases: [(String, WebAuthnDataError.Code, ([UInt8]) -> CBORValue)] = [
            ("empty", .malformedAttestation, { _ in [:] }),
            ("no sig", .malformedAttestation, { _ in ["alg": -7] }),
            ("no alg", .malformedAttestation, { a in ["sig": .byteString(signer.sign(a + hash))] }),
            ("alg as text", .malformedAttestation, { a in ["alg": "ES256", "sig": .byteString(signer.sign(a + hash))] }),
            ("sig as text", .malformedAttestation, { _ in ["alg": -7, "sig": "x"] }),
            ("ecdaaKeyId", .malformedAttestation, { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), "ecdaaKeyId": .byteString([1])] }),
            ("integer key", .malformedAttestation, { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), 1: 1] }),
            ("x5c not an array", .malformedAttestation, { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), "x5c": .byteString([1])] }),
            ("x5c empty", .malformedAttestation, { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), "x5c": []] }),
            ("x5c holds text", .malformedAttestation, { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), "x5c": ["MII"]] }),
            (
                "x5c holds nine certificates", .malformedAttestation,
                { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), "x5c": .array(.init(repeating: .byteString([0x30, 0x00]), count: 9))] }
            ),
            ("x5c holds garbage", .invalidAttestationCertificate, { a in ["alg": -7, "sig": .byteString(signer.sign(a + hash)), "x5c": [.byteString([0x30, 0x03, 0x02, 0x01, 0x01])]] }),
            ("alg -35", .unsupportedAlgorithm, { a in ["alg": -35, "sig": .byteString(signer.sign(a + hash))] }),
        ]
        for (name, code, statement) in cases {
            let object = try AttestationObject(bytes: Factory.attestationObject(credential: signer, statement: statement))
            expectWebAuthnError(code, "\(name)") { _ = try object.verify(clientDataHash: hash) }
        }
    }

    // MARK: - packed, basic attestation (x5c)

    /// A root, a P-256 attestation key and its leaf certificate, and the matching attestation object.
    struct BasicSetup {
        let root: AttestationTestFactory.Authority
        let attestationKey: AttestationTestFactory.Signer
        let leaf: Certificate
        let aaguid: [UInt8] = Array(0xa0...0xaf)

        init(
            attestationKey: AttestationTestFactory.Signer = .p256(P256.Signing.PrivateKey()),
            aaguidExtension: AttestationTestFactory.AAGUIDExtension = .matching,
            subject: DistinguishedName = AttestationTestFactory.attestationSubject(),
            version: Certificate.Version = .v3, basicConstraints: BasicConstraints? = .notCertificateAuthority,
            notAfter: Date = AttestationTestFactory.notAfter
        ) {
            root = AttestationTestFactory.root()
            self.attestationKey = attestationKey
            leaf = AttestationTestFactory.leaf(
                publicKey: attestationKey.certificatePublicKey, issuer: root, aaguid: Array(0xa0...0xaf),
                aaguidExtension: aaguidExtension, subject: subject, version: version, basicConstraints: basicConstraints,
                notAfter: notAfter)
        }

        func object(chain: [Certificate]? = nil, tamperSignature: Bool = false, alg: Int? = nil) throws -> AttestationObject {
            try AttestationObject(
                bytes: AttestationTestFactory.packedBasic(
                    attestationKey: attestationKey, chain: chain ?? [leaf], aaguid: aaguid, alg: alg,
                    tamperSignature: tamperSignature))
        }
    }

    @Test("packed basic attestation verifies, with and without a trust path")
    func packedBasic() throws {
        let setup = BasicSetup()
        let object = try setup.object()
        let result = try object.verify(clientDataHash: hash)
        #expect(result.type == .basic)
        #expect(result.aaguid == setup.aaguid)
        #expect(result.certificates == [setup.leaf])
        #expect(!result.trustPathVerified)
        let trusted = try object.verify(clientDataHash: hash, trustAnchors: [setup.root.certificate], now: Factory.now)
        #expect(trusted.trustPathVerified)
        // The root may also travel in x5c; the anchor then matches the last certificate itself.
        let withRoot = try setup.object(chain: [setup.leaf, setup.root.certificate])
        #expect(try withRoot.verify(clientDataHash: hash, trustAnchors: [setup.root.certificate], now: Factory.now).trustPathVerified)
        // An anchor that is the leaf itself (a pinned attestation certificate).
        #expect(try object.verify(clientDataHash: hash, trustAnchors: [setup.leaf], now: Factory.now).trustPathVerified)
        // Several anchors, the right one last.
        #expect(try object.verify(clientDataHash: hash, trustAnchors: [Factory.root("Other").certificate, setup.root.certificate], now: Factory.now).trustPathVerified)
    }

    @Test("packed basic attestation with RSA and Ed25519 attestation keys")
    func packedBasicOtherAlgorithms() throws {
        for key in [Factory.Signer.rsa(PasskeyTestKeys.rsa2048), .ed25519(Curve25519.Signing.PrivateKey())] {
            let setup = BasicSetup(attestationKey: key)
            let result = try setup.object().verify(clientDataHash: hash, trustAnchors: [setup.root.certificate], now: Factory.now)
            #expect(result.type == .basic && result.trustPathVerified)
            expectWebAuthnError(.invalidAttestationSignature) { _ = try setup.object(tamperSignature: true).verify(clientDataHash: hash) }
        }
    }

    @Test("a flipped signature byte, another client data hash or a mismatched alg fail the signature")
    func packedBasicSignature() throws {
        let setup = BasicSetup()
        expectWebAuthnError(.invalidAttestationSignature) { _ = try setup.object(tamperSignature: true).verify(clientDataHash: hash) }
        expectWebAuthnError(.invalidAttestationSignature) { _ = try setup.object().verify(clientDataHash: sha256([1])) }
        expectWebAuthnError(.invalidAttestationSignature, "alg -8 with a P-256 leaf") {
            _ = try setup.object(alg: -8).verify(clientDataHash: hash)
        }
        expectWebAuthnError(.invalidAttestationSignature, "alg -257 with a P-256 leaf") {
            _ = try setup.object(alg: -257).verify(clientDataHash: hash)
        }
        // An Ed25519 attestation key whose (valid Ed25519) signature claims ES256.
        let edSetup = BasicSetup(attestationKey: .ed25519(Curve25519.Signing.PrivateKey()))
        expectWebAuthnError(.invalidAttestationSignature, "alg -7 with an Ed25519 leaf") {
            _ = try edSetup.object(alg: -7).verify(clientDataHash: hash)
        }
        let rsaSetup = BasicSetup(attestationKey: .rsa(PasskeyTestKeys.rsa2048))
        expectWebAuthnError(.invalidAttestationSignature, "alg -7 with an RSA leaf") {
            _ = try rsaSetup.object(alg: -7).verify(clientDataHash: hash)
        }
        // A 1024-bit RSA attestation key is refused (swift-certificates does not even parse the certificate).
        let weak = BasicSetup(attestationKey: .rsa(PasskeyTestKeys.rsa1024))
        expectWebAuthnError(.invalidAttestationCertificate) { _ = try weak.object().verify(clientDataHash: hash) }
    }

    @Test("the aaguid extension, when present, must be non-critical and match the authenticator data")
    func aaguidExtension() throws {
        #expect(throws: Never.self) { try BasicSetup(aaguidExtension: .absent).object().verify(clientDataHash: hash) }
        let cases: [(String, AttestationTestFactory.AAGUIDExtension)] = [
            ("another AAGUID", .value([0x04, 0x10] + Array(0xb0...0xbf), critical: false)),
            ("one byte different", .value([0x04, 0x10] + Array(0xa0...0xae) + [0x00], critical: false)),
            ("critical", .value([0x04, 0x10] + Array(0xa0...0xaf), critical: true)),
            ("not wrapped in an OCTET STRING", .value(Array(0xa0...0xaf), critical: false)),
            ("15 bytes", .value([0x04, 0x0f] + Array(0xa0...0xae), critical: false)),
            ("17 bytes", .value([0x04, 0x11] + Array(0xa0...0xaf) + [0], critical: false)),
            ("trailing byte", .value([0x04, 0x10] + Array(0xa0...0xaf) + [0], critical: false)),
            ("a BIT STRING", .value([0x03, 0x10] + Array(0xa0...0xaf), critical: false)),
        ]
        for (name, aaguidExtension) in cases {
            let setup = BasicSetup(aaguidExtension: aaguidExtension)
            expectWebAuthnError(.invalidAttestationCertificate, "\(name)") { _ = try setup.object().verify(clientDataHash: hash) }
        }
    }

    @Test("the leaf must be v3 with C, O, OU \"Authenticator Attestation\" and CN, and not a CA")
    func leafRequirements() throws {
        typealias F = AttestationTestFactory
        let cases: [(String, BasicSetup)] = [
            ("version 1", BasicSetup(aaguidExtension: .absent, version: .v1)),
            ("OU differs", BasicSetup(subject: F.attestationSubject(unit: "Authenticator attestation"))),
            ("OU missing", BasicSetup(subject: F.attestationSubject(unit: nil))),
            ("C missing", BasicSetup(subject: F.attestationSubject(country: nil))),
            ("O missing", BasicSetup(subject: F.attestationSubject(organization: nil))),
            ("CN missing", BasicSetup(subject: F.attestationSubject(commonName: nil))),
            ("O empty", BasicSetup(subject: F.attestationSubject(organization: ""))),
            ("a CA", BasicSetup(basicConstraints: .isCertificateAuthority(maxPathLength: nil))),
        ]
        for (name, setup) in cases {
            expectWebAuthnError(.invalidAttestationCertificate, "\(name)") { _ = try setup.object().verify(clientDataHash: hash) }
        }
        // Without basic constraints the leaf is an end entity (RFC 5280) and is accepted.
        #expect(throws: Never.self) { try BasicSetup(basicConstraints: nil).object().verify(clientDataHash: hash) }
    }

    @Test("each x5c certificate must be issued and signed by the next, which must be a CA")
    func chain() throws {
        typealias F = AttestationTestFactory
        let root = F.root()
        let intermediate = F.intermediate(issuer: root)
        let key = F.Signer.p256(P256.Signing.PrivateKey())
        let aaguid: [UInt8] = Array(0xa0...0xaf)
        func leaf(issuer: F.Authority) -> Certificate { F.leaf(publicKey: key.certificatePublicKey, issuer: issuer, aaguid: aaguid) }
        func verify(_ chain: [Certificate], anchors: [Certificate]? = nil) throws -> AttestationResult {
            try AttestationObject(bytes: F.packedBasic(attestationKey: key, chain: chain, aaguid: aaguid))
                .verify(clientDataHash: hash, trustAnchors: anchors, now: F.now)
        }

        let good = [leaf(issuer: intermediate), intermediate.certificate]
        #expect(try verify(good).type == .basic)
        #expect(try verify(good, anchors: [root.certificate]).trustPathVerified)
        #expect(try verify(good + [root.certificate], anchors: [root.certificate]).trustPathVerified)
        // Anchored at the intermediate.
        #expect(try verify(good, anchors: [intermediate.certificate]).trustPathVerified)

        // Wrong order: names do not chain.
        expectWebAuthnError(.invalidAttestationCertificate, "reversed") { _ = try verify([leaf(issuer: intermediate), root.certificate, intermediate.certificate]) }
        // Same names, another key: the signature does not verify.
        let impostor = F.intermediate(issuer: root)  // same subject name, different key
        expectWebAuthnError(.invalidAttestationCertificate, "impostor issuer") { _ = try verify([leaf(issuer: intermediate), impostor.certificate]) }
        // The issuer's key signed the leaf, but under another name: names must chain too.
        let renamed = F.intermediate("Another Name", issuer: root, key: intermediate.key)
        expectWebAuthnError(.invalidAttestationCertificate, "names do not chain") { _ = try verify([leaf(issuer: intermediate), renamed.certificate]) }
        // An issuer that is not a CA.
        let notCA = F.intermediate(issuer: root, isCA: false)
        expectWebAuthnError(.invalidAttestationCertificate, "issuer not a CA") { _ = try verify([leaf(issuer: notCA), notCA.certificate]) }
        // An issuer whose key usage does not allow certificate signing.
        let noCertSign = F.intermediate(issuer: root, keyUsage: KeyUsage(digitalSignature: true))
        expectWebAuthnError(.invalidAttestationCertificate, "no keyCertSign") { _ = try verify([leaf(issuer: noCertSign), noCertSign.certificate]) }
        // A leaf whose own attestation key signs a "sub-leaf": the leaf is no CA.
        let leafKey = P256.Signing.PrivateKey()
        let leafAuthority = F.Authority(
            key: .init(leafKey),
            certificate: F.leaf(publicKey: .init(leafKey.publicKey), issuer: root, aaguid: aaguid))
        let subLeaf = F.leaf(publicKey: key.certificatePublicKey, issuer: leafAuthority, aaguid: aaguid)
        expectWebAuthnError(.invalidAttestationCertificate, "leaf as issuer") { _ = try verify([subLeaf, leafAuthority.certificate]) }
    }

    @Test("SHA-1 certificate signatures are refused")
    func sha1() throws {
        typealias F = AttestationTestFactory
        let rsaRootKey = Certificate.PrivateKey(PasskeyTestKeys.rsa2048)
        let rsaRoot = F.Authority(
            key: rsaRootKey,
            certificate: try Certificate(
                version: .v3, serialNumber: .init(), publicKey: rsaRootKey.publicKey, notValidBefore: F.notBefore,
                notValidAfter: F.notAfter, issuer: F.name("RSA Root"), subject: F.name("RSA Root"),
                signatureAlgorithm: .sha256WithRSAEncryption, extensions: F.caExtensions(pathLength: nil, keyUsage: nil),
                issuerPrivateKey: rsaRootKey))
        let key = F.Signer.p256(P256.Signing.PrivateKey())
        let aaguid: [UInt8] = Array(0xa0...0xaf)
        let sha256Leaf = F.leaf(publicKey: key.certificatePublicKey, issuer: rsaRoot, aaguid: aaguid, signatureAlgorithm: .sha256WithRSAEncryption)
        let sha1Leaf = F.leaf(publicKey: key.certificatePublicKey, issuer: rsaRoot, aaguid: aaguid, signatureAlgorithm: .sha1WithRSAEncryption)
        func verify(_ chain: [Certificate]) throws -> AttestationResult {
            try AttestationObject(bytes: F.packedBasic(attestationKey: key, chain: chain, aaguid: aaguid))
                .verify(clientDataHash: hash, trustAnchors: [rsaRoot.certificate], now: F.now)
        }
        #expect(try verify([sha256Leaf]).trustPathVerified)
        expectWebAuthnError(.untrustedAttestation) { _ = try verify([sha1Leaf]) }
        expectWebAuthnError(.invalidAttestationCertificate) { _ = try verify([sha1Leaf, rsaRoot.certificate]) }
    }

    @Test("trust anchors: the path must reach one, within validity periods and path length")
    func trust() throws {
        typealias F = AttestationTestFactory
        let setup = BasicSetup()
        let object = try setup.object()
        expectWebAuthnError(.untrustedAttestation, "another root") {
            _ = try object.verify(clientDataHash: hash, trustAnchors: [F.root().certificate], now: F.now)
        }
        expectWebAuthnError(.untrustedAttestation, "another root with the same name") {
            _ = try object.verify(clientDataHash: hash, trustAnchors: [F.root("Sesame Test Root").certificate], now: F.now)
        }
        // The root travels in x5c, and an anchor has its name (but another key): not the same certificate.
        let withRoot = try setup.object(chain: [setup.leaf, setup.root.certificate])
        expectWebAuthnError(.untrustedAttestation, "look-alike anchor") {
            _ = try withRoot.verify(clientDataHash: hash, trustAnchors: [F.root("Sesame Test Root").certificate], now: F.now)
        }
        expectWebAuthnError(.untrustedAttestation, "no anchors") { _ = try object.verify(clientDataHash: hash, trustAnchors: [], now: F.now) }
        // Validity is checked against `now` only when anchors are given.
        let later = Date(timeIntervalSince1970: 2_100_000_000)
        let earlier = Date(timeIntervalSince1970: 1_600_000_000)
        #expect(throws: Never.self) { try object.verify(clientDataHash: hash, now: later) }
        expectWebAuthnError(.untrustedAttestation, "expired") {
            _ = try object.verify(clientDataHash: hash, trustAnchors: [setup.root.certificate], now: later)
        }
        expectWebAuthnError(.untrustedAttestation, "not yet valid") {
            _ = try object.verify(clientDataHash: hash, trustAnchors: [setup.root.certificate], now: earlier)
        }
        // An expired leaf under a valid root.
        let expiredLeaf = BasicSetup(notAfter: Date(timeIntervalSince1970: 1_750_000_000))
        #expect(throws: Never.self) { try expiredLeaf.object().verify(clientDataHash: hash) }
        expectWebAuthnError(.untrustedAttestation, "expired leaf") {
            _ = try expiredLeaf.object().verify(clientDataHash: hash, trustAnchors: [expiredLeaf.root.certificate], now: F.now)
        }
        // An expired anchor.
        let oldRoot = F.root(notAfter: Date(timeIntervalSince1970: 1_750_000_000))
        let key = F.Signer.p256(P256.Signing.PrivateKey())
        let leafUnderOldRoot = F.leaf(publicKey: key.certificatePublicKey, issuer: oldRoot, aaguid: Array(0xa0...0xaf))
        let objectUnderOldRoot = try AttestationObject(bytes: F.packedBasic(attestationKey: key, chain: [leafUnderOldRoot]))
        expectWebAuthnError(.untrustedAttestation, "expired anchor") {
            _ = try objectUnderOldRoot.verify(clientDataHash: hash, trustAnchors: [oldRoot.certificate], now: F.now)
        }
        // Path length: a root limited to 0 intermediates cannot anchor leaf <- intermediate.
        let strictRoot = F.root(pathLength: 0)
        let intermediate = F.intermediate(issuer: strictRoot)
        let deepLeaf = F.leaf(publicKey: key.certificatePublicKey, issuer: intermediate, aaguid: Array(0xa0...0xaf))
        let deepObject = try AttestationObject(bytes: F.packedBasic(attestationKey: key, chain: [deepLeaf, intermediate.certificate]))
        expectWebAuthnError(.untrustedAttestation, "path length") {
            _ = try deepObject.verify(clientDataHash: hash, trustAnchors: [strictRoot.certificate], now: F.now)
        }
        expectWebAuthnError(.invalidAttestationCertificate, "path length inside x5c") {
            _ = try AttestationObject(bytes: F.packedBasic(attestationKey: key, chain: [deepLeaf, intermediate.certificate, strictRoot.certificate]))
                .verify(clientDataHash: hash)
        }
        let shallowRoot = F.root(pathLength: 1)
        let intermediate1 = F.intermediate(issuer: shallowRoot)
        let okLeaf = F.leaf(publicKey: key.certificatePublicKey, issuer: intermediate1, aaguid: Array(0xa0...0xaf))
        #expect(try AttestationObject(bytes: F.packedBasic(attestationKey: key, chain: [okLeaf, intermediate1.certificate]))
            .verify(clientDataHash: hash, trustAnchors: [shallowRoot.certificate], now: F.now).trustPathVerified)
    }

    @Test("errors compare by code and describe themselves")
    func errorModel() {
        let a = WebAuthnDataError(.malformedCBOR, detail: "a")
        #expect(a == WebAuthnDataError(.malformedCBOR, detail: "b"))
        #expect(a != WebAuthnDataError(.invalidPublicKey, detail: "a"))
        #expect(a.description == "malformed_cbor: a")
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}
