import Foundation

/// JSON Web Tokens (RFC 7519): a JSON claims payload, signed (JWS) or encrypted (JWE `dir`).
///
/// The key decides the form: a signing key produces a JWS, a content-encryption key a JWE. Verification
/// accepts either form, selects the key strictly, and then checks the purpose (`typ`) and the registered
/// claims against a ``TokenValidation``.
public enum JWT {
    /// A token that verified and passed validation.
    public struct Verified: Sendable {
        /// The protected header.
        public let header: JOSEHeader
        /// The payload's JSON text (validated: it is one JSON object).
        public let payloadBytes: [UInt8]
        /// The registered claims, read from the payload.
        public let claims: RegisteredClaims
        /// The key that verified or decrypted the token.
        public let key: JWK

        /// The full payload as a JSON object (parsed when asked for).
        public var payload: JSONObject {
            (try? JSONValue(parsing: payloadBytes))?.objectValue ?? JSONObject()
        }

        /// One top-level member of the payload, parsed on its own (when asked for).
        ///
        /// - Parameter name: The member's name.
        /// - Returns: Its value, or `nil` when the payload has no such member.
        public func claim(_ name: String) -> JSONValue? {
            payloadBytes.withUnsafeBufferPointer { bytes in
                let found = try? JSONObjectScanner.withMembers(of: bytes) { members throws(TokenError) in
                    members.first(named: name, in: bytes)?.parsed(in: bytes)
                }
                return found ?? nil
            }
        }
    }

    /// Issues a token.
    ///
    /// - Parameters:
    ///   - payload: The claims object.
    ///   - key: A signing key (JWS) or a content-encryption key (JWE).
    ///   - type: The `typ` header, if any.
    /// - Returns: The compact serialization.
    /// - Throws: ``TokenError/invalidKey`` if the key can neither sign nor encrypt.
    public static func issue(_ payload: JSONObject, key: JWK, type: String? = nil) throws(TokenError) -> String {
        let bytes = JSONValue.object(payload).jsonBytes
        if key.algorithm.isSigning { return try JWS.sign(bytes, key: key, type: type) }
        return try JWE.encrypt(bytes, key: key, type: type)
    }

    /// Verifies (or decrypts) a token and validates it.
    ///
    /// - Parameters:
    ///   - token: The compact JWS or JWE.
    ///   - keys: The accepted keys.
    ///   - validation: The purpose, lifetime, issuer and audience rules.
    /// - Returns: The header, payload and claims.
    /// - Throws: ``TokenError`` naming the first check that failed.
    public static func verify(_ token: String, keys: KeySet, validation: TokenValidation = TokenValidation()) throws(TokenError) -> Verified {
        try verify(token, keys: keys, validation: validation, extracting: []).verified
    }

    /// Verifies a token and, in the same pass over the payload, parses the named top-level members.
    static func verify(_ token: String, keys: KeySet, validation: TokenValidation, extracting names: [String]) throws(TokenError) -> (verified: Verified, extracted: [JSONValue?]) {
        // One set of keys for the whole check, even if a ring's keys are replaced meanwhile.
        if keys.isLive { return try verify(token, keys: keys.resolved, validation: validation, extracting: names) }
        let (header, payloadBytes, key) = try token.withUTF8Buffer { bytes throws(TokenError) in
            let compact = try CompactToken(bytes, maximumSize: validation.maximumTokenSize)
            if compact.isJWE {
                let decrypted = try JWE.decrypt(compact, keys: keys, understoodCriticalParameters: validation.understoodCriticalParameters)
                return (decrypted.header, decrypted.plaintext, decrypted.key)
            }
            let verified = try JWS.verify(compact, keys: keys, understoodCriticalParameters: validation.understoodCriticalParameters)
            return (verified.header, verified.payload, verified.key)
        }
        try validation.check(header)
        let scanned = try payloadBytes.withUnsafeBufferPointer { bytes throws(TokenError) in
            try JSONObjectScanner.withMembers(of: bytes) { members throws(TokenError) in
                (try RegisteredClaims(scanned: members, in: bytes), names.map { members.first(named: $0, in: bytes)?.parsed(in: bytes) })
            }
        }
        guard let (claims, extracted) = scanned else { throw TokenError.invalidPayload.with(detail: "not a JSON object") }
        try validation.check(claims, at: validation.now())
        return (Verified(header: header, payloadBytes: payloadBytes, claims: claims, key: key), extracted)
    }
}
