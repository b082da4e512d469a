import Crypto
import Foundation
import Testing
import X509

@testable import Sesame

/// The WebAuthn Level 3 specification's test vectors (§16) and real authenticator responses from py_webauthn's test
/// suite, loaded from `Fixtures/webauthn/` (see the README there for sources and licenses).
@Suite("WebAuthn vectors") struct WebAuthnVectorTests {
    // MARK: - W3C WebAuthn Level 3, §16

    enum Expected {
        case attestation(AttestationResult.AttestationType, COSEAlgorithm)
        case parseError(WebAuthnDataError.Code)
        case verifyError(WebAuthnDataError.Code)
    }

    static let w3cExpectations: [String: Expected] = [
        "sctn-test-vectors-none-es256": .attestation(.none, .es256),
        "sctn-test-vectors-packed-self-es256": .attestation(.selfAttestation, .es256),
        "sctn-test-vectors-none-es256-crossOrigin": .attestation(.none, .es256),
        "sctn-test-vectors-none-es256-topOrigin": .attestation(.none, .es256),
        "sctn-test-vectors-none-es256-long-credential-id": .attestation(.none, .es256),
        "sctn-test-vectors-packed-es256": .attestation(.basic, .es256),
        "sctn-test-vectors-packed-es384": .parseError(.unsupportedAlgorithm),  // credential alg -35
        "sctn-test-vectors-packed-es512": .parseError(.unsupportedAlgorithm),  // credential alg -36
        "sctn-test-vectors-packed-rs256": .attestation(.basic, .rs256),
        "sctn-test-vectors-packed-eddsa": .attestation(.basic, .edDSA),
        "sctn-test-vectors-packed-ed448": .parseError(.unsupportedAlgorithm),  // credential alg -53
        "sctn-test-vectors-tpm-es256": .verifyError(.unsupportedAttestationFormat),
        "sctn-test-vectors-android-key-es256": .verifyError(.unsupportedAttestationFormat),
        "sctn-test-vectors-apple-es256": .verifyError(.unsupportedAttestationFormat),
        "sctn-test-vectors-fido-u2f-es256": .verifyError(.unsupportedAttestationFormat),
    ]

    @Test("every W3C registration vector parses and verifies as expected; every authentication signature verifies")
    func w3cVectors() throws {
        let fixtures = try W3CTestVectors.load()
        let root = try fixtures.rootCertificate()
        #expect(fixtures.vectors.count == Self.w3cExpectations.count)
        for vector in fixtures.vectors {
            let expected = try #require(Self.w3cExpectations[vector.anchor], "no expectation for \(vector.anchor)")
            let bytes = testHex(vector.registration.attestationObject)
            let clientDataHash = sha256(testHex(vector.registration.clientDataJSON))
            // The fixtures are canonical CBOR.
            #expect(try CBORValue.decode(bytes).encoded() == bytes, "\(vector.anchor)")

            let object: AttestationObject
            do {
                object = try AttestationObject(bytes: bytes)
            } catch {
                if case .parseError(let code) = expected {
                    #expect(error.code == code, "\(vector.anchor)")
                } else {
                    Issue.record("\(vector.anchor): \(error)")
                }
                continue
            }
            #expect(object.credential.aaguid == testHex(vector.registration.aaguid), "\(vector.anchor)")
            #expect(object.credential.credentialID == testHex(vector.registration.credential_id), "\(vector.anchor)")

            switch expected {
            case .parseError(let code):
                Issue.record("\(vector.anchor): parsed, expected \(code)")
            case .verifyError(let code):
                expectWebAuthnError(code, "\(vector.anchor)") { _ = try object.verify(clientDataHash: clientDataHash) }
            case .attestation(let type, let algorithm):
                let result = try object.verify(clientDataHash: clientDataHash)
                #expect(result.type == type, "\(vector.anchor)")
                #expect(result.credential.publicKey.algorithm == algorithm, "\(vector.anchor)")
                #expect(result.aaguid == testHex(vector.registration.aaguid), "\(vector.anchor)")
                if type == .basic {
                    let trusted = try object.verify(clientDataHash: clientDataHash, trustAnchors: [root])
                    #expect(trusted.trustPathVerified, "\(vector.anchor)")
                    #expect(result.certificates.count == 1)
                } else {
                    expectWebAuthnError(.untrustedAttestation, "\(vector.anchor)") {
                        _ = try object.verify(clientDataHash: clientDataHash, trustAnchors: [root])
                    }
                }
                // The signature (where there is one) covers the client data.
                if type != .none {
                    expectWebAuthnError(.invalidAttestationSignature, "\(vector.anchor)") {
                        _ = try object.verify(clientDataHash: sha256(testHex(vector.registration.clientDataJSON) + [0x20]))
                    }
                }

                // Authentication with the registered key.
                let assertionData = testHex(vector.authentication.authenticatorData)
                let assertion = try AuthenticatorData(bytes: assertionData)
                #expect(assertion.attestedCredentialData == nil)
                #expect(assertion.rpIDHash == object.authenticatorData.rpIDHash, "\(vector.anchor)")
                #expect(assertion.rpIDHash == sha256(Array("example.org".utf8)))
                let signedData = assertionData + sha256(testHex(vector.authentication.clientDataJSON))
                let signature = testHex(vector.authentication.signature)
                let key = object.credential.publicKey
                #expect(key.isValidSignature(signature, for: signedData), "\(vector.anchor)")
                var flipped = signature
                flipped[flipped.count / 2] ^= 0x01
                #expect(!key.isValidSignature(flipped, for: signedData), "\(vector.anchor)")
                var otherData = signedData
                otherData[32] ^= 0x04  // the UV flag
                #expect(!key.isValidSignature(signature, for: otherData), "\(vector.anchor)")
                // A stored key round-trips through its bytes.
                #expect(try COSEKey(bytes: key.bytes).isValidSignature(signature, for: signedData))
            }
        }
    }

    @Test("W3C packed ES256: one flipped signature byte, another client data hash, an untrusted root")
    func w3cPackedES256Tampering() throws {
        let fixtures = try W3CTestVectors.load()
        let vector = try fixtures.vector("sctn-test-vectors-packed-es256")
        let bytes = testHex(vector.registration.attestationObject)
        let clientDataHash = sha256(testHex(vector.registration.clientDataJSON))
        let object = try AttestationObject(bytes: bytes)
        let signature = try #require(object.attestationStatement["sig"]?.bytes)
        let range = try #require(AttestationObjectTests.range(of: signature, in: bytes))
        for offset in [0, 5, signature.count / 2, signature.count - 1] {
            var tampered = bytes
            tampered[range.lowerBound + offset] ^= 0x80
            expectWebAuthnError(.invalidAttestationSignature, "byte \(offset)") {
                _ = try AttestationObject(bytes: tampered).verify(clientDataHash: clientDataHash)
            }
        }
        expectWebAuthnError(.invalidAttestationSignature) { _ = try object.verify(clientDataHash: sha256(clientDataHash)) }
        // A root the chain does not lead to.
        expectWebAuthnError(.untrustedAttestation) {
            _ = try object.verify(clientDataHash: clientDataHash, trustAnchors: [AttestationTestFactory.root().certificate])
        }
        // The vector's certificates are valid 2024-01-01 to 3024-01-01.
        expectWebAuthnError(.untrustedAttestation) {
            _ = try object.verify(
                clientDataHash: clientDataHash, trustAnchors: [try fixtures.rootCertificate()],
                now: Date(timeIntervalSince1970: 1_600_000_000))
        }
        // A byte of the attestation certificate changed: its signature by the root no longer verifies.
        let leafDER = try #require(object.attestationStatement["x5c"]?.array?.first?.bytes)
        let leafRange = try #require(AttestationObjectTests.range(of: leafDER, in: bytes))
        var tamperedLeaf = bytes
        tamperedLeaf[leafRange.lowerBound + 200] ^= 0x01  // inside the subject public key
        #expect(throws: WebAuthnDataError.self) {
            try AttestationObject(bytes: tamperedLeaf).verify(clientDataHash: clientDataHash, trustAnchors: [try fixtures.rootCertificate()])
        }
    }

    // MARK: - py_webauthn: real authenticators

    @Test("YubiKey packed attestations (ES256 and Ed25519 credentials) verify and chain to the Yubico U2F root")
    func yubiKeyPacked() throws {
        let fixtures = try PyWebAuthnVectors.load()
        let yubico = try PyWebAuthnVectors.yubicoRoot()
        let cases: [(String, COSEAlgorithm, String)] = [
            ("registration_packed/verify_attestation_from_yubikey_firefox", .es256, "6d44ba9bf6ec2e49b9300c8fe920cb73"),
            ("registration/raises_exception_on_unsupported_attestation_type", .es256, "6d44ba9bf6ec2e49b9300c8fe920cb73"),
            ("registration_packed/verify_attestation_with_okp_public_key", .edDSA, "c5ef55ffad9a4b9fb580adebafe026d0"),
        ]
        for (name, algorithm, aaguid) in cases {
            let vector = try fixtures.registration(name)
            let bytes = try #require(testBase64URL(vector.attestationObject))
            let clientDataJSON = try #require(testBase64URL(vector.clientDataJSON))
            let object = try AttestationObject(bytes: bytes)
            let result = try object.verify(clientDataHash: sha256(clientDataJSON))
            #expect(result.type == .basic, "\(name)")
            #expect(result.credential.publicKey.algorithm == algorithm, "\(name)")
            #expect(testHexString(result.aaguid) == aaguid, "\(name)")
            let leaf = try #require(result.certificates.first)
            // The certificate carries the AAGUID extension, and it matched.
            #expect(leaf.extensions[oid: AttestationTestFactory.aaguidOID] != nil, "\(name)")
            #expect(try object.verify(clientDataHash: sha256(clientDataJSON), trustAnchors: [yubico]).trustPathVerified, "\(name)")
            // Tampering.
            expectWebAuthnError(.invalidAttestationSignature, "\(name): other client data") {
                _ = try object.verify(clientDataHash: sha256(clientDataJSON + [0x20]))
            }
            let signature = try #require(object.attestationStatement["sig"]?.bytes)
            let range = try #require(AttestationObjectTests.range(of: signature, in: bytes))
            var tampered = bytes
            tampered[range.upperBound - 3] ^= 0x01
            expectWebAuthnError(.invalidAttestationSignature, "\(name): flipped signature byte") {
                _ = try AttestationObject(bytes: tampered).verify(clientDataHash: sha256(clientDataJSON))
            }
            // The AAGUID in the authenticator data changed: signed data differs, so the signature fails first.
            let authData = object.authenticatorData.raw
            let authRange = try #require(AttestationObjectTests.range(of: authData, in: bytes))
            var otherAAGUID = bytes
            otherAAGUID[authRange.lowerBound + 37] ^= 0x01
            expectWebAuthnError(.invalidAttestationSignature, "\(name): AAGUID changed") {
                _ = try AttestationObject(bytes: otherAAGUID).verify(clientDataHash: sha256(clientDataJSON))
            }
            // The W3C test root is not Yubico's.
            expectWebAuthnError(.untrustedAttestation, "\(name): wrong root") {
                _ = try object.verify(clientDataHash: sha256(clientDataJSON), trustAnchors: [try W3CTestVectors.load().rootCertificate()])
            }
        }
    }

    @Test("a none attestation from a real authenticator")
    func realNone() throws {
        let vector = try PyWebAuthnVectors.load().registration("registration/verifies_none_attestation_response")
        let object = try AttestationObject(bytes: try #require(testBase64URL(vector.attestationObject)))
        let result = try object.verify(clientDataHash: sha256(try #require(testBase64URL(vector.clientDataJSON))))
        #expect(result.type == .none)
        #expect(result.aaguid == [UInt8](repeating: 0, count: 16))
        #expect(object.authenticatorData.signCount == 23)
        #expect(!object.authenticatorData.backupEligible && !object.authenticatorData.backedUp)
        #expect(result.credential.credentialID == testBase64URL("9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w"))
        #expect(result.credential.publicKey.bytes == testBase64URL("pQECAyYgASFYIEhW1CRfuNlIN6XTPKw0RbvzeaIlRMrDwwep-uq_-3WQIlgg1FZwd_RZRsqS_qgKCDvcVh7ScoKNo3w5h5fv3ihUSww"))
    }

    @Test("out-of-scope formats from real devices are unsupported; post-quantum credential keys are unsupported algorithms")
    func realUnsupported() throws {
        let fixtures = try PyWebAuthnVectors.load()
        for vector in fixtures.registrations {
            let bytes = try #require(testBase64URL(vector.attestationObject))
            #expect(try CBORValue.decode(bytes).encoded() == bytes, "\(vector.name) is canonical CBOR")
            let format = try #require(CBORValue.decode(bytes)["fmt"]?.text)
            if vector.name.contains("ml_dsa") {
                expectWebAuthnError(.unsupportedAlgorithm, "\(vector.name)") { _ = try AttestationObject(bytes: bytes) }
            } else if format != "none" && format != "packed" {
                let object = try AttestationObject(bytes: bytes)
                expectWebAuthnError(.unsupportedAttestationFormat, "\(vector.name)") {
                    _ = try object.verify(clientDataHash: sha256(try #require(testBase64URL(vector.clientDataJSON))))
                }
            }
        }
    }

    @Test("real assertions verify over authenticatorData || SHA-256(clientDataJSON) with the stored COSE key")
    func realAssertions() throws {
        let fixtures = try PyWebAuthnVectors.load()
        let valid: [(String, COSEAlgorithm, UInt32)] = [
            ("authentication/verify_authentication_response_with_EC2_public_key", .es256, 78),
            ("authentication/verify_authentication_response_with_RSA_public_key", .rs256, 1),
            ("authentication/verify_authentication_response_with_OKP_public_key", .edDSA, 7),
            ("authentication/supports_multiple_expected_origins", .es256, 1_625_263_266),
            ("authentication/raises_exception_on_uv_required_but_false", .es256, 33),
        ]
        for (name, algorithm, signCount) in valid {
            let vector = try fixtures.authentication(name)
            let key = try COSEKey(bytes: try #require(testBase64URL(vector.credentialPublicKey)))
            #expect(key.algorithm == algorithm, "\(name)")
            let authenticatorData = try #require(testBase64URL(vector.authenticatorData))
            let parsed = try AuthenticatorData(bytes: authenticatorData)
            #expect(parsed.signCount == signCount, "\(name)")
            #expect(parsed.rpIDHash == sha256(Array("localhost".utf8)), "\(name)")
            let signedData = authenticatorData + sha256(try #require(testBase64URL(vector.clientDataJSON)))
            let signature = try #require(testBase64URL(vector.signature))
            #expect(key.isValidSignature(signature, for: signedData), "\(name)")
            var tampered = signature
            tampered[tampered.count - 2] ^= 0x10
            #expect(!key.isValidSignature(tampered, for: signedData), "\(name)")
            #expect(!key.isValidSignature(signature, for: Array(signedData.dropLast())), "\(name)")
        }
        // py_webauthn's "incorrect public key" case: a valid-looking signature under another key.
        let wrong = try fixtures.authentication("authentication/raises_exception_on_incorrect_public_key")
        let key = try COSEKey(bytes: try #require(testBase64URL(wrong.credentialPublicKey)))
        let signedData = try #require(testBase64URL(wrong.authenticatorData)) + sha256(try #require(testBase64URL(wrong.clientDataJSON)))
        #expect(!key.isValidSignature(try #require(testBase64URL(wrong.signature)), for: signedData))
        // ML-DSA credential keys are not supported.
        for name in ["verify_ml_dsa_44_response", "verify_ml_dsa_65_response", "verify_ml_dsa_87_response"] {
            let vector = try fixtures.authentication("authentication/" + name)
            expectWebAuthnError(.unsupportedAlgorithm, "\(name)") {
                _ = try COSEKey(bytes: try #require(testBase64URL(vector.credentialPublicKey)))
            }
        }
    }

    @Test("authenticator data from py_webauthn's parser tests")
    func realAuthenticatorData() throws {
        let fixtures = try PyWebAuthnVectors.load()
        func data(_ name: String) throws -> [UInt8] {
            let vector = try #require(fixtures.authenticatorData.first { $0.name == "authenticator_data/" + name })
            return try #require(testBase64URL(vector.authenticatorData))
        }
        let rsa = try AuthenticatorData(bytes: try data("correctly_parses_attested_credential_data"))
        #expect(rsa.attestedCredentialData?.publicKey.algorithm == .rs256)
        #expect(rsa.attestedCredentialData?.aaguid == testBase64URL("yHzdl1bBSbieJMs2NlTzUA"))
        #expect(rsa.attestedCredentialData?.credentialID == testBase64URL("drsqybluveECHdSPE_37iuq7wESwP7tJnbFZ7X_Ie_o"))

        let withExtensions = try AuthenticatorData(bytes: try data("parses_attested_credential_data_and_extension_data"))
        #expect(withExtensions.extensions == ["credProtect": 1])
        #expect(withExtensions.attestedCredentialData?.publicKey.bytes == testBase64URL("pAEBAycgBiFYIOYTuGqNTrriToSgJwtnc_e7MNHVn17DeZEOvnyHcUJ0"))

        let onlyExtensions = try AuthenticatorData(bytes: try data("parses_only_extension_data"))
        #expect(onlyExtensions.attestedCredentialData == nil)
        #expect(onlyExtensions.extensions?["example.extension"]?.text?.hasPrefix("This is an example extension!") == true)

        // Some YubiKeys encoded Ed25519 keys with text labels and arrays of integers; py_webauthn repairs them,
        // Sesame refuses them.
        expectWebAuthnError(.invalidPublicKey) { _ = try AuthenticatorData(bytes: try data("parses_bad_eddsa_auth_data")) }
    }
}
