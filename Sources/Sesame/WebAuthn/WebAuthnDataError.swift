/// Why WebAuthn data (a COSE key, authenticator data or an attestation object) was rejected.
///
/// Two errors are equal when their ``code``s are equal: ``detail`` (and ``cborError``) are context for humans
/// and logs, and are not part of equality. No detail ever holds key material or more than a few bytes of input.
public struct WebAuthnDataError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of rejection.
    public enum Code: String, Sendable, Hashable {
        /// The bytes are not strict, canonical CBOR; ``WebAuthnDataError/cborError`` says which rule they broke.
        case malformedCBOR = "malformed_cbor"
        /// Authenticator data is too short, has bytes left over, or its flags disagree with its content.
        case malformedAuthenticatorData = "malformed_authenticator_data"
        /// A COSE algorithm other than ES256 (-7), EdDSA (-8) or RS256 (-257).
        case unsupportedAlgorithm = "unsupported_algorithm"
        /// A COSE key whose parameters are missing, extra, inconsistent or do not form a valid public key.
        case invalidPublicKey = "invalid_public_key"
        /// An attestation object or attestation statement without the required members, with others, or with
        /// members of the wrong kind; also a client data hash that is not 32 bytes.
        case malformedAttestation = "malformed_attestation"
        /// An attestation statement format other than `none` and `packed`.
        case unsupportedAttestationFormat = "unsupported_attestation_format"
        /// The attestation signature does not verify, or its algorithm does not match the key it must use.
        case invalidAttestationSignature = "invalid_attestation_signature"
        /// An attestation certificate does not parse, breaks a requirement of the format, or its chain does
        /// not verify.
        case invalidAttestationCertificate = "invalid_attestation_certificate"
        /// Trust anchors were given and the attestation chain does not lead to one of them (or a certificate
        /// on the path is outside its validity period).
        case untrustedAttestation = "untrusted_attestation"
    }

    /// What kind of rejection.
    public let code: Code
    /// A note for humans.
    public let detail: String
    /// The CBOR decoder's error, when the rejection came from it.
    public let cborError: CBORError?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of rejection.
    ///   - detail: A note for humans.
    ///   - cborError: The CBOR decoder's error, when the rejection came from it.
    public init(_ code: Code, detail: String, cborError: CBORError? = nil) {
        self.code = code
        self.detail = detail
        self.cborError = cborError
    }

    /// Wraps a CBOR decoder error as ``Code/malformedCBOR``.
    ///
    /// - Parameters:
    ///   - error: The decoder's error.
    ///   - context: What was being decoded, for the detail.
    init(_ error: CBORError, decoding context: String) {
        self.init(.malformedCBOR, detail: "\(context): \(error.description)", cborError: error)
    }

    /// Whether two errors have the same ``code``.
    ///
    /// - Parameters:
    ///   - lhs: An error.
    ///   - rhs: Another error.
    /// - Returns: `true` when the codes are equal.
    public static func == (lhs: WebAuthnDataError, rhs: WebAuthnDataError) -> Bool { lhs.code == rhs.code }

    /// Hashes the ``code``.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `code: detail`.
    public var description: String { "\(code.rawValue): \(detail)" }
}
