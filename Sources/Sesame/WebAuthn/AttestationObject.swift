import Foundation
import X509

/// A registration's attestation object (WebAuthn §6.5): the authenticator data with the new credential, and
/// an attestation statement about the authenticator that made it.
///
/// Parsing checks the structure; ``verify(clientDataHash:trustAnchors:now:)`` checks the statement. Two
/// attestation statement formats are verified: `none` and `packed` (self and basic attestation). `tpm`,
/// `android-key`, `android-safetynet`, `apple` and `fido-u2f` are out of scope and rejected as
/// ``WebAuthnDataError/Code/unsupportedAttestationFormat``; relying parties that ask for no attestation (the
/// WebAuthn default, `attestation: "none"`) receive `none` from browsers whatever the authenticator.
public struct AttestationObject: Sendable {
    /// The attestation statement format identifier (`fmt`), for example `none` or `packed`.
    public let format: String
    /// The attestation statement (`attStmt`): a CBOR map whose members depend on ``format``.
    public let attestationStatement: CBORValue
    /// The authenticator data (`authData`); it always holds attested credential data.
    public let authenticatorData: AuthenticatorData
    /// The attestation object's bytes as received.
    public let raw: [UInt8]

    /// The new credential: the authenticator data's attested credential data.
    public let credential: AuthenticatorData.AttestedCredentialData

    /// Parses an attestation object.
    ///
    /// - Parameter bytes: The `attestationObject` bytes from the client's `AuthenticatorAttestationResponse`.
    /// - Throws: ``WebAuthnDataError``: ``WebAuthnDataError/Code/malformedCBOR`` when the bytes are not strict
    ///   canonical CBOR; ``WebAuthnDataError/Code/malformedAttestation`` unless they are a map of exactly
    ///   `fmt` (text), `attStmt` (map) and `authData` (bytes) whose authenticator data holds attested credential
    ///   data; and the errors of ``AuthenticatorData/init(bytes:)``.
    public init(bytes: [UInt8]) throws(WebAuthnDataError) {
        let value: CBORValue
        do {
            value = try CBORValue.decode(bytes)
        } catch {
            throw WebAuthnDataError(error, decoding: "attestation object")
        }
        guard let entries = value.mapEntries else {
            throw WebAuthnDataError(.malformedAttestation, detail: "the attestation object is not a CBOR map")
        }
        var format: String?
        var statement: CBORValue?
        var authenticatorDataBytes: [UInt8]?
        for entry in entries {
            switch entry.key {
            case .textString(let key) where key.utf8.elementsEqual("fmt".utf8):
                guard let text = entry.value.text, !text.isEmpty else {
                    throw WebAuthnDataError(.malformedAttestation, detail: "fmt is not a non-empty text string")
                }
                format = text
            case .textString(let key) where key.utf8.elementsEqual("attStmt".utf8):
                guard entry.value.mapEntries != nil else {
                    throw WebAuthnDataError(.malformedAttestation, detail: "attStmt is not a map")
                }
                statement = entry.value
            case .textString(let key) where key.utf8.elementsEqual("authData".utf8):
                guard let data = entry.value.bytes else {
                    throw WebAuthnDataError(.malformedAttestation, detail: "authData is not a byte string")
                }
                authenticatorDataBytes = data
            default:
                throw WebAuthnDataError(
                    .malformedAttestation, detail: "the attestation object has a member other than fmt, attStmt, authData")
            }
        }
        // The decoder rejects duplicate keys, so three known keys seen means each once.
        guard let format, let statement, let authenticatorDataBytes else {
            throw WebAuthnDataError(.malformedAttestation, detail: "the attestation object lacks fmt, attStmt or authData")
        }
        let authenticatorData = try AuthenticatorData(bytes: authenticatorDataBytes)
        guard let credential = authenticatorData.attestedCredentialData else {
            throw WebAuthnDataError(
                .malformedAttestation, detail: "the authenticator data holds no attested credential data (AT flag clear)")
        }
        self.format = format
        self.attestationStatement = statement
        self.authenticatorData = authenticatorData
        self.credential = credential
        self.raw = bytes
    }

    /// Verifies the attestation statement (WebAuthn §6.5.3 and the format's verification procedure).
    ///
    /// - `none` (§8.7): the statement must be an empty map. Result type ``AttestationResult/AttestationType/none``.
    /// - `packed` (§8.2) without `x5c`: `alg` must be the credential key's algorithm and `sig` must verify with
    ///   the credential key over `authenticatorData || clientDataHash`. Result type
    ///   ``AttestationResult/AttestationType/selfAttestation``.
    /// - `packed` with `x5c`: `sig` must verify under `alg` with the leaf certificate's key; the leaf must meet
    ///   §8.2.1 (version 3; subject with C, O, CN and OU "Authenticator Attestation"; not a CA; an
    ///   id-fido-gen-ce-aaguid extension, when present, not critical and equal to the authenticator data's
    ///   AAGUID); every certificate must be signed by the next one, which must be a CA allowed to sign it. Result
    ///   type ``AttestationResult/AttestationType/basic``.
    ///
    /// Certificate validity periods are not checked unless trust anchors are given: without anchors an
    /// attestation certificate proves nothing about the authenticator anyway, and authenticators ship with
    /// certificates whose validity is long, odd, or (on devices without a clock) already over.
    ///
    /// When `trustAnchors` is not `nil` the caller requires a trusted attestation: the last `x5c` certificate
    /// must be one of the anchors or be signed by one (which must be a CA), every certificate on that path
    /// must be valid at `now`, and `none` and self attestation are rejected, all as
    /// ``WebAuthnDataError/Code/untrustedAttestation``.
    ///
    /// - Parameters:
    ///   - clientDataHash: SHA-256 of the `clientDataJSON` bytes, 32 bytes.
    ///   - trustAnchors: The root (or intermediate) certificates to require a path to, or `nil` (the default)
    ///     to verify the statement without judging the authenticator's make.
    ///   - now: The time certificate validity is checked at when trust anchors are given.
    /// - Returns: The attestation type, the AAGUID, the certificates and whether a trust path was verified.
    /// - Throws: ``WebAuthnDataError``: ``WebAuthnDataError/Code/unsupportedAttestationFormat`` for formats other
    ///   than `none` and `packed`; ``WebAuthnDataError/Code/malformedAttestation`` for a statement without the
    ///   required members or with others, or a `clientDataHash` that is not 32 bytes;
    ///   ``WebAuthnDataError/Code/unsupportedAlgorithm`` for an `alg` other than -7, -8, -257;
    ///   ``WebAuthnDataError/Code/invalidAttestationSignature`` when `sig` does not verify or `alg` does not fit
    ///   the key; ``WebAuthnDataError/Code/invalidAttestationCertificate`` for a certificate that does not parse
    ///   or breaks a requirement above; ``WebAuthnDataError/Code/untrustedAttestation`` as described above.
    public func verify(
        clientDataHash: [UInt8], trustAnchors: [X509.Certificate]? = nil, now: Date = Date()
    ) throws(WebAuthnDataError) -> AttestationResult {
        guard clientDataHash.count == 32 else {
            throw WebAuthnDataError(
                .malformedAttestation, detail: "clientDataHash must be the 32-byte SHA-256 of clientDataJSON")
        }
        if format.utf8.elementsEqual("none".utf8) {
            guard attestationStatement.mapEntries?.isEmpty == true else {
                throw WebAuthnDataError(.malformedAttestation, detail: "a none attestation statement must be an empty map")
            }
            if trustAnchors != nil {
                throw WebAuthnDataError(.untrustedAttestation, detail: "trust anchors are required but the attestation is none")
            }
            return AttestationResult(
                format: format, type: .none, aaguid: credential.aaguid, certificates: [], trustPathVerified: false,
                credential: credential)
        }
        if format.utf8.elementsEqual("packed".utf8) {
            return try PackedAttestation.verify(
                statement: attestationStatement, authenticatorData: authenticatorData, credential: credential,
                clientDataHash: clientDataHash, trustAnchors: trustAnchors, now: now)
        }
        throw WebAuthnDataError(
            .unsupportedAttestationFormat,
            detail: "attestation statement format \(String(reflecting: String(String.UnicodeScalarView(format.unicodeScalars.prefix(32))))) is not supported")
    }
}
