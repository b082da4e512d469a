import Foundation
import X509

/// Checks on an attestation certificate chain (`x5c`, leaf first) and its path to a trust anchor.
///
/// This is deliberately narrow path validation for attestation, not a general X.509 verifier: names chain
/// (issuer = next subject), signatures verify with an allow-listed algorithm (no SHA-1), and every issuer is a CA
/// (basic constraints CA true, path length respected, key usage, when present, allowing certificate signing).
enum AttestationCertificatePath {
    /// The signature algorithms accepted on certificates. SHA-1 is excluded: chosen-prefix collisions make a
    /// SHA-1 certificate signature forgeable.
    static let allowedSignatureAlgorithms: [Certificate.SignatureAlgorithm] = [
        .ecdsaWithSHA256, .ecdsaWithSHA384, .ecdsaWithSHA512,
        .sha256WithRSAEncryption, .sha384WithRSAEncryption, .sha512WithRSAEncryption,
        .ed25519,
    ]

    /// Checks that each certificate is issued and signed by the next.
    ///
    /// - Parameter certificates: The chain, leaf first, at least one.
    /// - Throws: ``WebAuthnDataError/Code/invalidAttestationCertificate``.
    static func verifyIssuers(of certificates: [X509.Certificate]) throws(WebAuthnDataError) {
        var index = 0
        while index + 1 < certificates.count {
            let subject = certificates[index]
            let issuer = certificates[index + 1]
            // The issuer has `index` CA certificates below it (certificates[1...index]) before the leaf.
            if let problem = issuingProblem(subject: subject, issuer: issuer, certificatesBelowIssuer: index) {
                throw WebAuthnDataError(
                    .invalidAttestationCertificate, detail: "x5c certificate \(index + 1) cannot issue certificate \(index): \(problem)")
            }
            index += 1
        }
    }

    /// Checks that the chain ends at, or is issued by, one of the anchors, and that the certificates on the path
    /// are valid at `now`.
    ///
    /// - Parameters:
    ///   - certificates: The chain, leaf first, at least one, already checked with ``verifyIssuers(of:)``.
    ///   - anchors: The trusted certificates.
    ///   - now: The time to check validity at.
    /// - Throws: ``WebAuthnDataError/Code/untrustedAttestation``.
    static func verifyTrust(
        of certificates: [X509.Certificate], anchors: [X509.Certificate], now: Date
    ) throws(WebAuthnDataError) {
        for (index, certificate) in certificates.enumerated() where !isValid(certificate, at: now) {
            throw WebAuthnDataError(
                .untrustedAttestation, detail: "x5c certificate \(index) is outside its validity period")
        }
        guard let top = certificates.last else {
            throw WebAuthnDataError(.untrustedAttestation, detail: "there are no certificates")
        }
        if anchors.contains(where: { $0 == top }) { return }
        let below = certificates.count - 1
        var reasons: [String] = []
        for anchor in anchors {
            if let problem = issuingProblem(subject: top, issuer: anchor, certificatesBelowIssuer: below) {
                reasons.append(problem)
                continue
            }
            guard isValid(anchor, at: now) else {
                reasons.append("the anchor is outside its validity period")
                continue
            }
            return
        }
        throw WebAuthnDataError(
            .untrustedAttestation,
            detail: anchors.isEmpty
                ? "no trust anchors were given"
                : "no trust anchor issued the last x5c certificate (\(reasons.first ?? ""))")
    }

    /// Why `issuer` cannot have issued `subject`, or `nil` when it did.
    private static func issuingProblem(
        subject: X509.Certificate, issuer: X509.Certificate, certificatesBelowIssuer: Int
    ) -> String? {
        guard subject.issuer == issuer.subject else { return "the names do not chain" }
        guard allowedSignatureAlgorithms.contains(subject.signatureAlgorithm) else {
            return "signature algorithm \(subject.signatureAlgorithm) is not accepted"
        }
        let constraints: BasicConstraints?
        let usage: KeyUsage?
        do {
            constraints = try issuer.extensions.basicConstraints
            usage = try issuer.extensions.keyUsage
        } catch {
            return "the issuer's basic constraints or key usage do not parse"
        }
        guard case .isCertificateAuthority(let maxPathLength) = constraints else {
            return "the issuer is not a CA"
        }
        if let maxPathLength, certificatesBelowIssuer > maxPathLength {
            return "the issuer's path length constraint is exceeded"
        }
        if let usage, !usage.keyCertSign {
            return "the issuer's key usage does not allow certificate signing"
        }
        guard issuer.publicKey.isValidSignature(subject.signature, for: subject) else {
            return "the signature does not verify"
        }
        return nil
    }

    private static func isValid(_ certificate: X509.Certificate, at now: Date) -> Bool {
        certificate.notValidBefore <= now && now <= certificate.notValidAfter
    }
}
