/// Why a token, a key or a session was rejected.
///
/// Every rejection has its own case with a stable, machine-readable ``code`` (for logs, metrics and API
/// error bodies). Two errors are equal when their codes are equal; ``detail`` is a human-readable note that
/// never contains the token or key material.
public struct TokenError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable error code, for example `token_expired`.
    public var code: String { base.rawValue }
    /// Extra, non-secret context for humans (never part of equality).
    public let detail: String?

    enum Base: String, Sendable {
        case tokenTooLarge = "token_too_large"
        case malformedToken = "malformed_token"
        case invalidBase64URL = "invalid_base64url"
        case invalidHeader = "invalid_header"
        case invalidPayload = "invalid_payload"
        case algorithmNone = "algorithm_none"
        case unsupportedAlgorithm = "unsupported_algorithm"
        case algorithmMismatch = "algorithm_mismatch"
        case unknownKeyID = "unknown_key_id"
        case missingKeyID = "missing_key_id"
        case unknownCriticalHeader = "unknown_critical_header"
        case invalidSignature = "invalid_signature"
        case decryptionFailed = "decryption_failed"
        case wrongTokenType = "wrong_token_type"
        case expired = "token_expired"
        case notYetValid = "token_not_yet_valid"
        case issuedInFuture = "token_issued_in_future"
        case invalidIssuer = "invalid_issuer"
        case invalidAudience = "invalid_audience"
        case missingClaim = "missing_claim"
        case invalidClaim = "invalid_claim"
        case unknownSessionType = "unknown_session_type"
        case invalidSessionProperties = "invalid_session_properties"
        case revoked = "token_revoked"
        case revocationUnavailable = "revocation_unavailable"
        case sessionStoreUnavailable = "session_store_unavailable"
        case invalidKey = "invalid_key"
        case keyNotConfigured = "key_not_configured"
    }

    let base: Base

    init(_ base: Base, detail: String? = nil) {
        self.base = base
        self.detail = detail
    }

    /// A copy with a detail note attached.
    func with(detail: String) -> TokenError { TokenError(base, detail: detail) }

    public static func == (lhs: TokenError, rhs: TokenError) -> Bool { lhs.base == rhs.base }
    public func hash(into hasher: inout Hasher) { hasher.combine(base) }

    public var description: String {
        if let detail { return "\(code): \(detail)" }
        return code
    }

    /// The token is longer than the configured maximum; nothing was parsed.
    public static let tokenTooLarge = TokenError(.tokenTooLarge)
    /// The token does not have the compact serialization's shape (segment count, empty segments).
    public static let malformedToken = TokenError(.malformedToken)
    /// A segment is not strict, unpadded base64url.
    public static let invalidBase64URL = TokenError(.invalidBase64URL)
    /// The protected header is not a JSON object with the required members.
    public static let invalidHeader = TokenError(.invalidHeader)
    /// The payload is not a JSON object.
    public static let invalidPayload = TokenError(.invalidPayload)
    /// The token claims `alg: none`; unsecured tokens are never accepted.
    public static let algorithmNone = TokenError(.algorithmNone)
    /// The header names an algorithm Sesame does not implement.
    public static let unsupportedAlgorithm = TokenError(.unsupportedAlgorithm)
    /// The header's algorithm differs from the algorithm the selected key is bound to.
    public static let algorithmMismatch = TokenError(.algorithmMismatch)
    /// The header's `kid` names no key in the key set (there is no fallback to a default key).
    public static let unknownKeyID = TokenError(.unknownKeyID)
    /// The key set holds several keys and the header has no `kid` to choose one.
    public static let missingKeyID = TokenError(.missingKeyID)
    /// The header lists a `crit` extension Sesame does not understand.
    public static let unknownCriticalHeader = TokenError(.unknownCriticalHeader)
    /// The signature does not verify.
    public static let invalidSignature = TokenError(.invalidSignature)
    /// The JWE does not decrypt under the selected key (wrong key or tampered token).
    public static let decryptionFailed = TokenError(.decryptionFailed)
    /// The token was issued for another purpose (its `typ` is not the expected one).
    public static let wrongTokenType = TokenError(.wrongTokenType)
    /// The token's `exp` has passed, beyond the leeway.
    public static let expired = TokenError(.expired)
    /// The token's `nbf` is in the future, beyond the leeway.
    public static let notYetValid = TokenError(.notYetValid)
    /// The token's `iat` is in the future, beyond the leeway.
    public static let issuedInFuture = TokenError(.issuedInFuture)
    /// The token's `iss` is not the expected issuer.
    public static let invalidIssuer = TokenError(.invalidIssuer)
    /// The token's `aud` does not contain the expected audience.
    public static let invalidAudience = TokenError(.invalidAudience)
    /// A required claim is absent.
    public static let missingClaim = TokenError(.missingClaim)
    /// A registered claim has the wrong JSON type.
    public static let invalidClaim = TokenError(.invalidClaim)
    /// The session payload's `type` is not a case of the app's session enum.
    public static let unknownSessionType = TokenError(.unknownSessionType)
    /// The session payload's `properties` do not decode as the session case's associated values.
    public static let invalidSessionProperties = TokenError(.invalidSessionProperties)
    /// The token was revoked (its `jti`, or every token of its subject issued before a moment).
    public static let revoked = TokenError(.revoked)
    /// The revocation store could not be consulted; the token is not accepted (fail closed).
    public static let revocationUnavailable = TokenError(.revocationUnavailable)
    /// The session store could not be read or written; the request gets no session (fail closed).
    public static let sessionStoreUnavailable = TokenError(.sessionStoreUnavailable)
    /// Key material is malformed, too weak, or not usable for the requested algorithm.
    public static let invalidKey = TokenError(.invalidKey)
    /// No usable key is configured for the requested operation.
    public static let keyNotConfigured = TokenError(.keyNotConfigured)
}
