import Crypto
import Foundation
import _CryptoExtras

extension JWK {
    /// Imports an asymmetric key from a PEM document (PKCS#8, SEC1, PKCS#1 or SubjectPublicKeyInfo).
    ///
    /// - Parameters:
    ///   - pem: The PEM text of a public or private P-256, P-384, Ed25519 or RSA key.
    ///   - algorithm: The algorithm to bind the key to. EC and Ed25519 keys imply theirs; RSA keys default
    ///     to RS256 (pass `.ps256` for PSS).
    ///   - keyID: The key ID; defaults to the RFC 7638 thumbprint.
    /// - Throws: ``TokenError/invalidKey`` when the PEM is not a supported key or does not fit `algorithm`.
    public init(pem: String, algorithm: KeyAlgorithm? = nil, keyID: String? = nil) throws(TokenError) {
        let isPrivate = pem.contains("PRIVATE KEY")
        let material: Material
        let implied: KeyAlgorithm
        if isPrivate, let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            (material, implied) = (.p256(key.publicKey, key), .es256)
        } else if !isPrivate, let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            (material, implied) = (.p256(key, nil), .es256)
        } else if isPrivate, let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) {
            (material, implied) = (.p384(key.publicKey, key), .es384)
        } else if !isPrivate, let key = try? P384.Signing.PublicKey(pemRepresentation: pem) {
            (material, implied) = (.p384(key, nil), .es384)
        } else if isPrivate, let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            (material, implied) = (.ed25519(key.publicKey, key), .edDSA)
        } else if !isPrivate, let key = try? Curve25519.Signing.PublicKey(pemRepresentation: pem) {
            (material, implied) = (.ed25519(key, nil), .edDSA)
        } else if isPrivate, let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            (material, implied) = (.rsa(key.publicKey, key), .rs256)
        } else if !isPrivate, let key = try? _RSA.Signing.PublicKey(pemRepresentation: pem) {
            (material, implied) = (.rsa(key, nil), .rs256)
        } else {
            throw TokenError.invalidKey.with(detail: "not a supported PEM key (P-256, P-384, Ed25519 or RSA ≥ 2048 bits)")
        }
        try self.init(material: material, algorithm: algorithm ?? implied, keyID: keyID)
    }

    /// The PEM text of the key: the private key (PKCS#8) when the key has one, else the public key (SPKI).
    ///
    /// `nil` for symmetric keys, which have no PEM form.
    public var pemRepresentation: String? {
        switch material {
        case .p256(_, let privateKey?): return privateKey.pemRepresentation
        case .p256(let publicKey, nil): return publicKey.pemRepresentation
        case .p384(_, let privateKey?): return privateKey.pemRepresentation
        case .p384(let publicKey, nil): return publicKey.pemRepresentation
        case .ed25519(_, let privateKey?): return privateKey.pemRepresentation
        case .ed25519(let publicKey, nil): return publicKey.pemRepresentation
        case .rsa(_, let privateKey?): return privateKey.pkcs8PEMRepresentation
        case .rsa(let publicKey, nil): return publicKey.pemRepresentation
        case .symmetric: return nil
        }
    }
}
