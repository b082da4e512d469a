import Crypto
import Foundation

@testable import Sesame

/// A software WebAuthn authenticator for tests: an ES256 (or Ed25519) key per credential, authenticator data,
/// `none` attestation and assertions built byte by byte (with its own small CBOR encoder, independent of the
/// decoder under test), answering options the way a browser's `toJSON()` does.
struct SoftAuthenticator: Sendable {
    enum Key: Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    var key: Key = .p256(P256.Signing.PrivateKey())
    var credentialID: [UInt8] = Array((0..<16).map { _ in UInt8.random(in: 0...255) })
    var counter: UInt32 = 0
    /// Whether the counter goes up with each signature (authenticators that do not count always send 0).
    var counts = true
    var userPresent = true
    var userVerified = true
    var backupEligible = false
    var backedUp = false
    /// The user handle it stored at registration.
    var userHandle: [UInt8]? = nil

    // MARK: CBOR (canonical, only what authenticators send)

    indirect enum Item {
        case int(Int64), bytes([UInt8]), text(String), map([(Item, Item)])
    }

    static func encode(_ item: Item) -> [UInt8] {
        func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
            switch value {
            case 0..<24: return [major << 5 | UInt8(value)]
            case 24..<256: return [major << 5 | 24, UInt8(value)]
            case 256..<65536: return [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xFF)]
            default: return [major << 5 | 26] + withUnsafeBytes(of: UInt32(value).bigEndian, Array.init)
            }
        }
        switch item {
        case .int(let value): return value >= 0 ? head(0, UInt64(value)) : head(1, UInt64(-1 - value))
        case .bytes(let bytes): return head(2, UInt64(bytes.count)) + bytes
        case .text(let text): return head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .map(let pairs):
            // Canonical order: shorter encoded keys first, then bytewise.
            let encoded = pairs.map { (encode($0.0), encode($0.1)) }.sorted { $0.0.count != $1.0.count ? $0.0.count < $1.0.count : $0.0.lexicographicallyPrecedes($1.0) }
            return head(5, UInt64(pairs.count)) + encoded.flatMap { $0.0 + $0.1 }
        }
    }

    /// The credential's public key as a COSE key.
    var coseKey: [UInt8] {
        switch key {
        case .p256(let privateKey):
            let raw = Array(privateKey.publicKey.rawRepresentation)
            return Self.encode(.map([(.int(1), .int(2)), (.int(3), .int(-7)), (.int(-1), .int(1)), (.int(-2), .bytes(Array(raw[0..<32]))), (.int(-3), .bytes(Array(raw[32..<64])))]))
        case .ed25519(let privateKey):
            return Self.encode(.map([(.int(1), .int(1)), (.int(3), .int(-8)), (.int(-1), .int(6)), (.int(-2), .bytes(Array(privateKey.publicKey.rawRepresentation)))]))
        }
    }

    func sign(_ data: [UInt8]) -> [UInt8] {
        switch key {
        case .p256(let privateKey): return Array(try! privateKey.signature(for: data).derRepresentation)
        case .ed25519(let privateKey): return Array(try! privateKey.signature(for: data))
        }
    }

    func authenticatorData(rpID: String, attested: Bool) -> [UInt8] {
        var flags: UInt8 = 0
        if userPresent { flags |= 0x01 }
        if userVerified { flags |= 0x04 }
        if backupEligible { flags |= 0x08 }
        if backedUp { flags |= 0x10 }
        if attested { flags |= 0x40 }
        var data = Array(SHA256.hash(data: Array(rpID.utf8))) + [flags] + withUnsafeBytes(of: counter.bigEndian, Array.init)
        if attested {
            data += [UInt8](repeating: 0, count: 16) + [UInt8(credentialID.count >> 8), UInt8(credentialID.count & 0xFF)] + credentialID + coseKey
        }
        return data
    }

    static func clientData(type: String, challenge: String, origin: String, crossOrigin: Bool = false) -> [UInt8] {
        Array("{\"type\":\"\(type)\",\"challenge\":\"\(challenge)\",\"origin\":\"\(origin)\",\"crossOrigin\":\(crossOrigin)}".utf8)
    }

    /// Answers creation options: stores the user handle, returns `PublicKeyCredential.toJSON()`.
    mutating func create(_ options: JSONValue, origin: String, rpID: String? = nil, type: String = "webauthn.create", challenge: String? = nil,
                         crossOrigin: Bool = false, attestedCredentialID: [UInt8]? = nil) -> JSONValue {
        let options = options["options"] ?? options
        let rpID = rpID ?? options["rp"]?["id"]?.stringValue ?? ""
        userHandle = options["user"]?["id"]?.stringValue.flatMap(Base64URL.decode)
        let clientData = Self.clientData(type: type, challenge: challenge ?? options["challenge"]?.stringValue ?? "", origin: origin, crossOrigin: crossOrigin)
        var copy = self
        if let attestedCredentialID { copy.credentialID = attestedCredentialID }
        let attestation = Self.encode(.map([(.text("fmt"), .text("none")), (.text("attStmt"), .map([])), (.text("authData"), .bytes(copy.authenticatorData(rpID: rpID, attested: true)))]))
        let id = Base64URL.encode(credentialID)
        return ["id": .string(id), "rawId": .string(id), "type": "public-key", "clientExtensionResults": [:],
                "response": ["clientDataJSON": .string(Base64URL.encode(clientData)), "attestationObject": .string(Base64URL.encode(attestation)), "transports": ["internal"]]]
    }

    /// Answers request options with an assertion (the counter moves first, as a real authenticator's does).
    mutating func get(_ options: JSONValue, origin: String, rpID: String? = nil, type: String = "webauthn.get", challenge: String? = nil,
                      userHandle overridingHandle: [UInt8]?? = nil, crossOrigin: Bool = false) -> JSONValue {
        let options = options["options"] ?? options
        if counts { counter += 1 }
        let rpID = rpID ?? options["rpId"]?.stringValue ?? ""
        let clientData = Self.clientData(type: type, challenge: challenge ?? options["challenge"]?.stringValue ?? "", origin: origin, crossOrigin: crossOrigin)
        let data = authenticatorData(rpID: rpID, attested: false)
        let signature = sign(data + Array(SHA256.hash(data: clientData)))
        let id = Base64URL.encode(credentialID)
        var response: JSONObject = ["clientDataJSON": .string(Base64URL.encode(clientData)), "authenticatorData": .string(Base64URL.encode(data)),
                                    "signature": .string(Base64URL.encode(signature))]
        let handle = overridingHandle ?? userHandle
        if let handle { response["userHandle"] = .string(Base64URL.encode(handle)) }
        return ["id": .string(id), "rawId": .string(id), "type": "public-key", "clientExtensionResults": [:], "response": .object(response)]
    }
}
