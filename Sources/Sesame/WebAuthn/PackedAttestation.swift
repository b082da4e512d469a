import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// The `packed` attestation statement format's verification procedure (WebAuthn §8.2).
enum PackedAttestation {
    /// The most certificates `x5c` may hold: a bound on parsing and signature work (real chains hold 1 to 3).
    static let maximumCertificateCount = 8

    /// id-fido-gen-ce-aaguid, the attestation certificate extension that names the authenticator model.
    static let aaguidExtensionOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 45724, 1, 1, 4]

    /// Verifies a `packed` statement.
    ///
    /// - Parameters:
    ///   - statement: `attStmt`, a map.
    ///   - authenticatorData: The authenticator data the statement signs.
    ///   - credential: Its attested credential data.
    ///   - clientDataHash: SHA-256 of clientDataJSON, 32 bytes.
    ///   - trustAnchors: Certificates to require a path to, or `nil`.
    ///   - now: The time validity is checked at when there are anchors.
    /// - Returns: Self or basic attestation.
    static func verify(
        statement: CBORValue,
        authenticatorData: AuthenticatorData,
        credential: AuthenticatorData.AttestedCredentialData,
        clientDataHash: [UInt8],
        trustAnchors: [X509.Certificate]?,
        now: Date
    ) throws(WebAuthnDataError) -> AttestationResult {
        var algorithmValue: CBORValue?
        var signature: [UInt8]?
        var chainValue: CBORValue?
        for entry in statement.mapEntries ?? [] {
            guard case .textString(let key) = entry.key else {
                throw malformed("a packed attestation statement key is not a text string")
            }
            if key.utf8.elementsEqual("alg".utf8) {
                algorithmValue = entry.value
            } else if key.utf8.elementsEqual("sig".utf8) {
                guard let bytes = entry.value.bytes else { throw malformed("packed sig is not a byte string") }
                signature = bytes
            } else if key.utf8.elementsEqual("x5c".utf8) {
                chainValue = entry.value
            } else {
                throw malformed("a packed attestation statement has a member other than alg, sig and x5c")
            }
        }
        guard let algorithmValue, let signature else {
            throw malformed("a packed attestation statement needs alg and sig")
        }
        guard let identifier = algorithmValue.int else { throw malformed("packed alg is not an integer") }
        guard let algorithm = COSEAlgorithm(rawValue: identifier) else {
            throw WebAuthnDataError(
                .unsupportedAlgorithm, detail: "attestation algorithm \(identifier) is not supported (only -7, -8, -257)")
        }

        var signedData = authenticatorData.raw
        signedData.append(contentsOf: clientDataHash)

        guard let chainValue else {
            // Self attestation: the credential key signs its own registration.
            guard algorithm == credential.publicKey.algorithm else {
                throw WebAuthnDataError(
                    .invalidAttestationSignature,
                    detail: "self attestation alg \(identifier) differs from the credential key's alg \(credential.publicKey.algorithm.rawValue)")
            }
            guard credential.publicKey.isValidSignature(signature, for: signedData) else {
                throw WebAuthnDataError(
                    .invalidAttestationSignature, detail: "the self attestation signature does not verify")
            }
            if trustAnchors != nil {
                throw WebAuthnDataError(
                    .untrustedAttestation, detail: "trust anchors are required but the attestation is self attestation")
            }
            return AttestationResult(
                format: "packed", type: .selfAttestation, aaguid: credential.aaguid, certificates: [],
                trustPathVerified: false, credential: credential)
        }

        let certificates = try parseChain(chainValue)
        let leaf = certificates[0]
        let leafKey = try verificationKey(of: leaf, for: algorithm)
        guard leafKey.isValidSignature(signature, for: signedData) else {
            throw WebAuthnDataError(
                .invalidAttestationSignature, detail: "the attestation signature does not verify with the x5c leaf's key")
        }
        try checkLeafRequirements(leaf, aaguid: credential.aaguid)
        try AttestationCertificatePath.verifyIssuers(of: certificates)
        var trusted = false
        if let trustAnchors {
            try AttestationCertificatePath.verifyTrust(of: certificates, anchors: trustAnchors, now: now)
            trusted = true
        }
        return AttestationResult(
            format: "packed", type: .basic, aaguid: credential.aaguid, certificates: certificates,
            trustPathVerified: trusted, credential: credential)
    }

    /// Parses `x5c`: an array of 1 to ``maximumCertificateCount`` DER certificates, leaf first.
    private static func parseChain(_ value: CBORValue) throws(WebAuthnDataError) -> [X509.Certificate] {
        guard let elements = value.array else { throw malformed("x5c is not an array") }
        guard !elements.isEmpty else { throw malformed("x5c is empty") }
        guard elements.count <= maximumCertificateCount else {
            throw malformed("x5c holds \(elements.count) certificates, more than \(maximumCertificateCount)")
        }
        var certificates: [X509.Certificate] = []
        certificates.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard let der = element.bytes else { throw malformed("x5c element \(index) is not a byte string") }
            do {
                certificates.append(try X509.Certificate(derEncoded: der))
            } catch {
                throw WebAuthnDataError(
                    .invalidAttestationCertificate, detail: "x5c certificate \(index) is not a DER X.509 certificate")
            }
        }
        return certificates
    }

    /// The leaf's public key, which must be of the kind `alg` names.
    private static func verificationKey(
        of leaf: X509.Certificate, for algorithm: COSEAlgorithm
    ) throws(WebAuthnDataError) -> PasskeyVerificationKey {
        switch algorithm {
        case .es256:
            if let key = P256.Signing.PublicKey(leaf.publicKey) { return .p256(key) }
        case .edDSA:
            if let key = Curve25519.Signing.PublicKey(leaf.publicKey) { return .ed25519(key) }
        case .rs256:
            if let key = _RSA.Signing.PublicKey(leaf.publicKey),
                key.keySizeInBits >= PasskeyVerificationKey.minimumRSABits,
                key.keySizeInBits <= PasskeyVerificationKey.maximumRSABits
            {
                return .rsa(key)
            }
        }
        throw WebAuthnDataError(
            .invalidAttestationSignature,
            detail: "the x5c leaf's public key cannot verify alg \(algorithm.rawValue) signatures")
    }

    /// The attestation certificate requirements of §8.2.1.
    private static func checkLeafRequirements(_ leaf: X509.Certificate, aaguid: [UInt8]) throws(WebAuthnDataError) {
        guard leaf.version == .v3 else { throw invalidCertificate("the attestation certificate is not version 3") }

        let country = attributeValues(of: leaf.subject, .RDNAttributeType.countryName)
        let organization = attributeValues(of: leaf.subject, .RDNAttributeType.organizationName)
        let unit = attributeValues(of: leaf.subject, .RDNAttributeType.organizationalUnitName)
        let commonName = attributeValues(of: leaf.subject, .RDNAttributeType.commonName)
        guard country.count == 1, let c = country.first, !c.isEmpty else {
            throw invalidCertificate("the attestation certificate's subject needs exactly one country (C)")
        }
        guard organization.count == 1, let o = organization.first, !o.isEmpty else {
            throw invalidCertificate("the attestation certificate's subject needs exactly one organization (O)")
        }
        guard unit.count == 1, let ou = unit.first, ou.utf8.elementsEqual("Authenticator Attestation".utf8) else {
            throw invalidCertificate(
                "the attestation certificate's subject needs exactly one OU, \"Authenticator Attestation\"")
        }
        guard commonName.count == 1, let cn = commonName.first, !cn.isEmpty else {
            throw invalidCertificate("the attestation certificate's subject needs exactly one common name (CN)")
        }

        let basicConstraints: BasicConstraints?
        do {
            basicConstraints = try leaf.extensions.basicConstraints
        } catch {
            throw invalidCertificate("the attestation certificate's basic constraints do not parse")
        }
        if case .isCertificateAuthority = basicConstraints {
            throw invalidCertificate("the attestation certificate is a CA (basic constraints CA is true)")
        }

        if let aaguidExtension = leaf.extensions[oid: aaguidExtensionOID] {
            guard !aaguidExtension.critical else {
                throw invalidCertificate("the id-fido-gen-ce-aaguid extension must not be critical")
            }
            // extnValue's content is the DER of an OCTET STRING holding the 16 AAGUID bytes.
            let value = Array(aaguidExtension.value)
            guard value.count == 18, value[0] == 0x04, value[1] == 0x10 else {
                throw invalidCertificate("the id-fido-gen-ce-aaguid extension is not a 16-byte OCTET STRING")
            }
            guard Array(value[2...]) == aaguid else {
                throw invalidCertificate("the certificate's AAGUID differs from the authenticator data's AAGUID")
            }
        }
    }

    /// Every value of one attribute type in a distinguished name; a value that is not a string counts as empty.
    private static func attributeValues(of name: DistinguishedName, _ type: ASN1ObjectIdentifier) -> [String] {
        var values: [String] = []
        for relativeName in name {
            for attribute in relativeName where attribute.type == type {
                values.append(String(attribute.value) ?? "")
            }
        }
        return values
    }

    private static func malformed(_ detail: String) -> WebAuthnDataError {
        WebAuthnDataError(.malformedAttestation, detail: detail)
    }

    private static func invalidCertificate(_ detail: String) -> WebAuthnDataError {
        WebAuthnDataError(.invalidAttestationCertificate, detail: detail)
    }
}
