import Crypto
import Testing

@testable import Sesame

/// Builds authenticator data byte by byte, so each test can break exactly one thing.
struct AuthenticatorDataBuilder {
    var rpIDHash = sha256(Array("example.org".utf8))
    var flags: UInt8 = 0x01
    var signCount: UInt32 = 0
    var aaguid: [UInt8] = Array(0x10...0x1f)
    var credentialID: [UInt8] = Array(0...31)
    /// Overrides the credential ID length field (to lie about it).
    var credentialIDLengthField: UInt16?
    var publicKey: [UInt8]? = nil
    var includeAttestedData = false
    var extensions: [UInt8]? = nil
    var trailing: [UInt8] = []

    static let defaultKey = P256.Signing.PrivateKey()

    /// Registration-shaped data: UP, AT, the default key.
    static func registration(flags: UInt8 = 0x41) -> AuthenticatorDataBuilder {
        var builder = AuthenticatorDataBuilder()
        builder.flags = flags
        builder.includeAttestedData = true
        builder.publicKey = PasskeyTestKeys.ec2Map(defaultKey.publicKey).encoded()
        return builder
    }

    var bytes: [UInt8] {
        var bytes = rpIDHash
        bytes.append(flags)
        bytes += [UInt8(signCount >> 24), UInt8(signCount >> 16 & 0xff), UInt8(signCount >> 8 & 0xff), UInt8(signCount & 0xff)]
        if includeAttestedData {
            bytes += aaguid
            let length = credentialIDLengthField ?? UInt16(credentialID.count)
            bytes += [UInt8(length >> 8), UInt8(length & 0xff)]
            bytes += credentialID
            bytes += publicKey ?? []
        }
        bytes += extensions ?? []
        bytes += trailing
        return bytes
    }
}

@Suite("Authenticator data") struct AuthenticatorDataTests {
    @Test("an assertion's 37 bytes parse into hash, flags and a big-endian counter")
    func minimal() throws {
        var builder = AuthenticatorDataBuilder()
        builder.flags = 0x05 | 0x08 | 0x10  // UP, UV, BE, BS
        builder.signCount = 0x0102_0304
        let data = try AuthenticatorData(bytes: builder.bytes)
        #expect(data.raw == builder.bytes)
        #expect(data.rpIDHash == builder.rpIDHash)
        #expect(data.signCount == 0x0102_0304)
        #expect(data.userPresent && data.userVerified && data.backupEligible && data.backedUp)
        #expect(data.attestedCredentialData == nil)
        #expect(data.extensions == nil)
        #expect(data.flags == [.userPresent, .userVerified, .backupEligible, .backedUp])
    }

    @Test("reserved flag bits are ignored but kept")
    func reservedBits() throws {
        var builder = AuthenticatorDataBuilder()
        builder.flags = 0x01 | 0x02 | 0x20
        let data = try AuthenticatorData(bytes: builder.bytes)
        #expect(data.flags.rawValue == 0x23)
        #expect(data.userPresent && !data.userVerified)
    }

    @Test("fewer than 37 bytes is malformed")
    func tooShort() {
        let bytes = AuthenticatorDataBuilder().bytes
        for length in [0, 1, 32, 33, 36] {
            expectWebAuthnError(.malformedAuthenticatorData, "\(length) bytes") {
                _ = try AuthenticatorData(bytes: Array(bytes.prefix(length)))
            }
        }
    }

    @Test("BS without BE is malformed; BE alone and BE with BS are fine")
    func backupFlags() throws {
        var builder = AuthenticatorDataBuilder()
        builder.flags = 0x01 | 0x10
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.flags = 0x01 | 0x08
        #expect(try AuthenticatorData(bytes: builder.bytes).backupEligible)
        builder.flags = 0x01 | 0x08 | 0x10
        #expect(try AuthenticatorData(bytes: builder.bytes).backedUp)
    }

    @Test("attested credential data parses with the AT flag, keeping the key's exact bytes")
    func attestedCredentialData() throws {
        let builder = AuthenticatorDataBuilder.registration()
        let data = try AuthenticatorData(bytes: builder.bytes)
        let credential = try #require(data.attestedCredentialData)
        #expect(credential.aaguid == builder.aaguid)
        #expect(credential.credentialID == builder.credentialID)
        #expect(credential.publicKey.bytes == builder.publicKey)
        #expect(credential.publicKey.algorithm == .es256)
    }

    @Test("AT set without attested credential data is malformed")
    func atWithoutData() {
        var builder = AuthenticatorDataBuilder()
        builder.flags = 0x41
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: builder.bytes) }
        // Cut anywhere inside the AAGUID, the length or the ID.
        let full = AuthenticatorDataBuilder.registration().bytes
        for length in [38, 52, 53, 54, 55, 60, 86] {
            expectWebAuthnError(.malformedAuthenticatorData, "cut at \(length)") {
                _ = try AuthenticatorData(bytes: Array(full.prefix(length)))
            }
        }
        // Cut right after the credential ID: the key is missing.
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: Array(full.prefix(87))) }
        // Cut inside the key: the key's CBOR is truncated.
        expectWebAuthnError(.malformedCBOR) { _ = try AuthenticatorData(bytes: Array(full.prefix(100))) }
    }

    @Test("attested credential data without the AT flag is malformed")
    func dataWithoutAT() {
        var builder = AuthenticatorDataBuilder.registration(flags: 0x01)
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.flags = 0x81  // ED without AT: the credential data is not one extensions map
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: builder.bytes) }
    }

    @Test("credential ID lengths: 1 to 1023, and no longer than what is there")
    func credentialIDLength() throws {
        var builder = AuthenticatorDataBuilder.registration()
        builder.credentialID = []
        expectWebAuthnError(.malformedAuthenticatorData, "empty") { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.credentialID = [UInt8](repeating: 7, count: 1024)
        expectWebAuthnError(.malformedAuthenticatorData, "1024") { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.credentialID = [UInt8](repeating: 7, count: 1023)
        #expect(try AuthenticatorData(bytes: builder.bytes).attestedCredentialData?.credentialID.count == 1023)
        builder.credentialID = [9]
        #expect(try AuthenticatorData(bytes: builder.bytes).attestedCredentialData?.credentialID == [9])
        // The length field claims more than remains.
        builder.credentialID = Array(0..<32)
        builder.credentialIDLengthField = 1000
        expectWebAuthnError(.malformedAuthenticatorData, "overlong") { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.credentialIDLengthField = 0xffff
        expectWebAuthnError(.malformedAuthenticatorData, "0xffff") { _ = try AuthenticatorData(bytes: builder.bytes) }
        // The length field claims less: the rest of the ID is read as the key.
        builder.credentialIDLengthField = 16
        #expect(throws: WebAuthnDataError.self) { try AuthenticatorData(bytes: builder.bytes) }
    }

    @Test("the credential public key must be a valid COSE key")
    func badKeys() {
        var builder = AuthenticatorDataBuilder.registration()
        builder.publicKey = PasskeyTestKeys.ec2Map(AuthenticatorDataBuilder.defaultKey.publicKey, alg: -35).encoded()
        expectWebAuthnError(.unsupportedAlgorithm) { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.publicKey = COSEKeyTests.removing(PasskeyTestKeys.ec2Map(AuthenticatorDataBuilder.defaultKey.publicKey), -3).encoded()
        expectWebAuthnError(.invalidPublicKey) { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.publicKey = testHex("a2 03 26 01 02")  // unordered
        expectWebAuthnError(.malformedCBOR) { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.publicKey = testHex("5bffffffffffffffff")  // a huge claimed length
        expectWebAuthnError(.malformedCBOR) { _ = try AuthenticatorData(bytes: builder.bytes) }
    }

    @Test("bytes after the key without ED are malformed")
    func trailingAfterKey() {
        var builder = AuthenticatorDataBuilder.registration()
        builder.trailing = [0x00]
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.trailing = testHex("a0")  // even a well-formed map, when ED is clear
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: builder.bytes) }
        var assertion = AuthenticatorDataBuilder()
        assertion.trailing = [0]
        expectWebAuthnError(.malformedAuthenticatorData) { _ = try AuthenticatorData(bytes: assertion.bytes) }
    }

    @Test("extensions: present exactly with ED, one map with text keys, nothing after")
    func extensionData() throws {
        let credProtect = (["credProtect": 2] as CBORValue).encoded()
        var builder = AuthenticatorDataBuilder()
        builder.flags = 0x81
        builder.extensions = credProtect
        #expect(try AuthenticatorData(bytes: builder.bytes).extensions?["credProtect"] == 2)

        var registration = AuthenticatorDataBuilder.registration(flags: 0xc1)
        registration.extensions = credProtect
        let parsed = try AuthenticatorData(bytes: registration.bytes)
        #expect(parsed.extensions?["credProtect"] == 2)
        #expect(parsed.attestedCredentialData != nil)

        builder.extensions = nil
        expectWebAuthnError(.malformedAuthenticatorData, "ED without extensions") {
            _ = try AuthenticatorData(bytes: builder.bytes)
        }
        builder.flags = 0x01
        builder.extensions = credProtect
        expectWebAuthnError(.malformedAuthenticatorData, "extensions without ED") {
            _ = try AuthenticatorData(bytes: builder.bytes)
        }
        registration.flags = 0x41
        expectWebAuthnError(.malformedAuthenticatorData, "AT data and extensions without ED") {
            _ = try AuthenticatorData(bytes: registration.bytes)
        }
        builder.flags = 0x81
        builder.trailing = [0x00]
        expectWebAuthnError(.malformedAuthenticatorData, "bytes after the extensions") {
            _ = try AuthenticatorData(bytes: builder.bytes)
        }
        builder.trailing = []
        builder.extensions = ([1, 2] as CBORValue).encoded()
        expectWebAuthnError(.malformedAuthenticatorData, "extensions as an array") {
            _ = try AuthenticatorData(bytes: builder.bytes)
        }
        builder.extensions = ([1: 2] as CBORValue).encoded()
        expectWebAuthnError(.malformedAuthenticatorData, "integer extension identifier") {
            _ = try AuthenticatorData(bytes: builder.bytes)
        }
        builder.extensions = testHex("a2 6162 00 6161 00")  // unordered
        expectWebAuthnError(.malformedCBOR, "non-canonical extensions") { _ = try AuthenticatorData(bytes: builder.bytes) }
        builder.extensions = testHex("bf ff")  // indefinite
        expectWebAuthnError(.malformedCBOR, "indefinite extensions") { _ = try AuthenticatorData(bytes: builder.bytes) }
    }
}
