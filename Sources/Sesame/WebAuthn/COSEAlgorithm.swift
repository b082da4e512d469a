/// The COSE signature algorithms (IANA COSE Algorithms registry) that Sesame verifies for passkeys.
///
/// These are the three every relying party should accept (WebAuthn §5.8.3 recommends offering -8, -7 and
/// -257); anything else is rejected as ``WebAuthnDataError/Code/unsupportedAlgorithm``.
public enum COSEAlgorithm: Int, Sendable {
    /// ECDSA over P-256 with SHA-256. WebAuthn signatures are ASN.1 DER `Ecdsa-Sig-Value`s.
    case es256 = -7
    /// EdDSA; with a COSE key this means Ed25519 (crv 6), signatures 64 raw bytes.
    case edDSA = -8
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case rs256 = -257
}
