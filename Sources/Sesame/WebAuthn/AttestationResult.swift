import X509

/// What a verified attestation statement established (WebAuthn §6.5.3 attestation types).
public struct AttestationResult: Sendable, Hashable {
    /// The attestation type the statement proved.
    public enum AttestationType: String, Sendable, Hashable {
        /// No attestation (`fmt` `none`): nothing is known about the authenticator.
        case none = "none"
        /// Self attestation (`packed` without `x5c`): the credential key signed its own registration. This proves
        /// possession of the key, not the authenticator's make.
        case selfAttestation = "self"
        /// Basic attestation (`packed` with `x5c`): an attestation key certified by ``AttestationResult/certificates``
        /// signed the registration. The make is only established when ``AttestationResult/trustPathVerified``.
        case basic = "basic"
    }

    /// The attestation statement format identifier (`none`, `packed`).
    public let format: String
    /// The attestation type.
    public let type: AttestationType
    /// The authenticator model's AAGUID from the authenticator data, 16 bytes.
    public let aaguid: [UInt8]
    /// The attestation certificates from `x5c`, leaf first; empty unless ``type`` is ``AttestationType/basic``.
    public let certificates: [X509.Certificate]
    /// Whether the certificate path was verified up to one of the trust anchors given to `verify`: `true`
    /// exactly when trust anchors were given (when they were and no path reaches them, `verify` throws
    /// ``WebAuthnDataError/Code/untrustedAttestation`` instead of returning).
    public let trustPathVerified: Bool
    /// The new credential: its ID and public key.
    public let credential: AuthenticatorData.AttestedCredentialData
}
