import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

@testable import Sesame

/// Makes attestation certificates, chains and attestation objects whose every detail a test can change.
enum AttestationTestFactory {
    static let aaguidOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 45724, 1, 1, 4]
    static let notBefore = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11
    static let notAfter = Date(timeIntervalSince1970: 2_000_000_000)  // 2033-05
    static let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01

    /// A CA: key and certificate.
    struct Authority {
        let key: Certificate.PrivateKey
        let certificate: Certificate
        var name: DistinguishedName { certificate.subject }
    }

    static func der(_ certificate: Certificate) -> [UInt8] {
        var serializer = DER.Serializer()
        try! serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    static func name(_ commonName: String) -> DistinguishedName {
        try! DistinguishedName { CommonName(commonName) }
    }

    /// The subject §8.2.1 requires.
    static func attestationSubject(
        country: String? = "US", organization: String? = "Sesame Test Authenticators",
        unit: String? = "Authenticator Attestation", commonName: String? = "Sesame Test Key"
    ) -> DistinguishedName {
        var attributes: [RelativeDistinguishedName] = []
        if let country { attributes.append(RelativeDistinguishedName(try! .init(type: .RDNAttributeType.countryName, printableString: country))) }
        if let organization { attributes.append(RelativeDistinguishedName(.init(type: .RDNAttributeType.organizationName, utf8String: organization))) }
        if let unit { attributes.append(RelativeDistinguishedName(.init(type: .RDNAttributeType.organizationalUnitName, utf8String: unit))) }
        if let commonName { attributes.append(RelativeDistinguishedName(.init(type: .RDNAttributeType.commonName, utf8String: commonName))) }
        return DistinguishedName(attributes)
    }

    /// A self-signed root CA (P-256).
    static func root(
        _ commonName: String = "Sesame Test Root", pathLength: Int? = nil, keyUsage: KeyUsage? = KeyUsage(keyCertSign: true),
        notBefore: Date = notBefore, notAfter: Date = notAfter
    ) -> Authority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let certificate = try! Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: name(commonName), subject: name(commonName),
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: caExtensions(pathLength: pathLength, keyUsage: keyUsage), issuerPrivateKey: key)
        return Authority(key: key, certificate: certificate)
    }

    /// An intermediate CA issued by `issuer`.
    static func intermediate(
        _ commonName: String = "Sesame Test Intermediate", issuer: Authority, isCA: Bool = true,
        keyUsage: KeyUsage? = KeyUsage(keyCertSign: true), key: Certificate.PrivateKey? = nil,
        signatureAlgorithm: Certificate.SignatureAlgorithm = .ecdsaWithSHA256
    ) -> Authority {
        let key = key ?? Certificate.PrivateKey(P256.Signing.PrivateKey())
        let extensions: Certificate.Extensions =
            isCA
            ? caExtensions(pathLength: nil, keyUsage: keyUsage)
            : try! Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) }
        let certificate = try! Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: issuer.name, subject: name(commonName),
            signatureAlgorithm: signatureAlgorithm, extensions: extensions, issuerPrivateKey: issuer.key)
        return Authority(key: key, certificate: certificate)
    }

    static func caExtensions(pathLength: Int?, keyUsage: KeyUsage?) -> Certificate.Extensions {
        try! Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: pathLength))
            if let keyUsage { Critical(keyUsage) }
        }
    }

    /// How the leaf's aaguid extension looks.
    enum AAGUIDExtension {
        case absent
        case matching
        case value([UInt8], critical: Bool)
    }

    /// An attestation (leaf) certificate for `publicKey`, issued by `issuer`.
    static func leaf(
        publicKey: Certificate.PublicKey, issuer: Authority, aaguid: [UInt8],
        aaguidExtension: AAGUIDExtension = .matching, subject: DistinguishedName = attestationSubject(),
        version: Certificate.Version = .v3, basicConstraints: BasicConstraints? = .notCertificateAuthority,
        notBefore: Date = notBefore, notAfter: Date = notAfter,
        signatureAlgorithm: Certificate.SignatureAlgorithm = .ecdsaWithSHA256
    ) -> Certificate {
        var extensions = Certificate.Extensions()
        if let basicConstraints { try! extensions.append(Critical(basicConstraints).makeCertificateExtension()) }
        switch aaguidExtension {
        case .absent: break
        case .matching:
            try! extensions.append(Certificate.Extension(oid: aaguidOID, critical: false, value: ([0x04, 0x10] + aaguid)[...]))
        case .value(let value, let critical):
            try! extensions.append(Certificate.Extension(oid: aaguidOID, critical: critical, value: value[...]))
        }
        return try! Certificate(
            version: version, serialNumber: .init(), publicKey: publicKey, notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: issuer.name, subject: subject, signatureAlgorithm: signatureAlgorithm,
            extensions: version == .v3 ? extensions : Certificate.Extensions(), issuerPrivateKey: issuer.key)
    }

    /// Signs like an authenticator's attestation key (DER for ES256, raw for EdDSA, PKCS#1 v1.5 for RS256).
    enum Signer {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)

        func sign(_ data: [UInt8]) -> [UInt8] {
            switch self {
            case .p256(let key): return [UInt8](try! key.signature(for: data).derRepresentation)
            case .ed25519(let key): return [UInt8](try! key.signature(for: data))
            case .rsa(let key): return PasskeyTestKeys.rsaSign(key, data)
            }
        }

        var certificatePublicKey: Certificate.PublicKey {
            switch self {
            case .p256(let key): return Certificate.PublicKey(key.publicKey)
            case .ed25519(let key): return Certificate.PublicKey(key.publicKey)
            case .rsa(let key): return Certificate.PublicKey(key.publicKey)
            }
        }

        var coseMap: CBORValue {
            switch self {
            case .p256(let key): return PasskeyTestKeys.ec2Map(key.publicKey)
            case .ed25519(let key): return PasskeyTestKeys.okpMap(key.publicKey)
            case .rsa(let key): return PasskeyTestKeys.rsaMap(key.publicKey)
            }
        }

        var algorithm: Int {
            switch self {
            case .p256: return -7
            case .ed25519: return -8
            case .rsa: return -257
            }
        }
    }

    static let clientDataHash = sha256(Array(#"{"type":"webauthn.create","challenge":"AAAA","origin":"https://example.org"}"#.utf8))

    /// An attestation object with the given statement over authenticator data holding `credentialKey`.
    static func attestationObject(
        format: String = "packed", credential: Signer, aaguid: [UInt8] = Array(0xa0...0xaf),
        statement: (_ authData: [UInt8]) -> CBORValue
    ) -> [UInt8] {
        var builder = AuthenticatorDataBuilder.registration(flags: 0x45)
        builder.aaguid = aaguid
        builder.publicKey = credential.coseMap.encoded()
        let authData = builder.bytes
        let object: CBORValue = ["fmt": .textString(format), "attStmt": statement(authData), "authData": .byteString(authData)]
        return object.encoded()
    }

    /// A packed basic attestation: the attestation key signs, `x5c` carries `chain` (leaf first).
    static func packedBasic(
        credential: Signer = .p256(P256.Signing.PrivateKey()), attestationKey: Signer, chain: [Certificate],
        aaguid: [UInt8] = Array(0xa0...0xaf), alg: Int? = nil, clientDataHash: [UInt8] = clientDataHash,
        tamperSignature: Bool = false
    ) -> [UInt8] {
        attestationObject(credential: credential, aaguid: aaguid) { authData in
            var signature = attestationKey.sign(authData + clientDataHash)
            if tamperSignature { signature[signature.count / 2] ^= 0x01 }
            return [
                "alg": CBORValue(alg ?? attestationKey.algorithm), "sig": .byteString(signature),
                "x5c": .array(chain.map { .byteString(der($0)) }),
            ]
        }
    }

    /// A packed self attestation: the credential key signs.
    static func packedSelf(credential: Signer, alg: Int? = nil) -> [UInt8] {
        attestationObject(credential: credential) { authData in
            ["alg": CBORValue(alg ?? credential.algorithm), "sig": .byteString(credential.sign(authData + clientDataHash))]
        }
    }
}
