import Crypto
import Foundation
import Testing
import X509

@testable import Sesame

/// `Fixtures/webauthn/w3c-test-vectors.json`: the WebAuthn Level 3 specification's §16 test vectors (hex).
struct W3CTestVectors: Decodable {
    struct Registration: Decodable {
        let challenge: String
        let aaguid: String
        let credential_id: String
        let clientDataJSON: String
        let attestationObject: String
    }

    struct Authentication: Decodable {
        let challenge: String
        let clientDataJSON: String
        let authenticatorData: String
        let signature: String
    }

    struct Vector: Decodable {
        let name: String
        let anchor: String
        let registration: Registration
        let authentication: Authentication
    }

    let attestationRootCertificate: String
    let vectors: [Vector]

    static func load() throws -> W3CTestVectors {
        try loadWebAuthnFixture("w3c-test-vectors.json", as: W3CTestVectors.self)
    }

    func vector(_ anchor: String) throws -> Vector {
        try #require(vectors.first { $0.anchor == anchor }, "no vector \(anchor)")
    }

    func rootCertificate() throws -> X509.Certificate {
        try X509.Certificate(derEncoded: testHex(attestationRootCertificate))
    }
}

/// `Fixtures/webauthn/py_webauthn-vectors.json`: credentials from py_webauthn's test suite (base64url).
struct PyWebAuthnVectors: Decodable {
    struct Registration: Decodable {
        let name: String
        let sourceTest: String
        let attestationObject: String
        let clientDataJSON: String
    }

    struct Authentication: Decodable {
        let name: String
        let sourceTest: String
        let credentialPublicKey: String
        let authenticatorData: String
        let clientDataJSON: String
        let signature: String
    }

    struct AuthenticatorDataVector: Decodable {
        let name: String
        let sourceTest: String
        let authenticatorData: String
    }

    let registrations: [Registration]
    let authentications: [Authentication]
    let authenticatorData: [AuthenticatorDataVector]

    static func load() throws -> PyWebAuthnVectors {
        try loadWebAuthnFixture("py_webauthn-vectors.json", as: PyWebAuthnVectors.self)
    }

    func registration(_ name: String) throws -> Registration {
        try #require(registrations.first { $0.name == name }, "no registration \(name)")
    }

    func authentication(_ name: String) throws -> Authentication {
        try #require(authentications.first { $0.name == name }, "no authentication \(name)")
    }

    static func yubicoRoot() throws -> X509.Certificate {
        try X509.Certificate(pemEncoded: loadWebAuthnFixtureText("yubico-u2f-root-ca-serial-457200631.pem"))
    }
}

/// Every attestation object in the fixtures, for mutation testing.
func allFixtureAttestationObjects() throws -> [[UInt8]] {
    let w3c = try W3CTestVectors.load()
    let py = try PyWebAuthnVectors.load()
    return w3c.vectors.map { testHex($0.registration.attestationObject) }
        + py.registrations.compactMap { testBase64URL($0.attestationObject) }
}

/// SHA-256 as bytes.
func sha256(_ bytes: [UInt8]) -> [UInt8] {
    Array(SHA256.hash(data: bytes))
}
