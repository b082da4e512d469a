import Foundation

/// What a token must satisfy beyond a valid signature: its purpose, lifetime, issuer and audience.
///
/// Defaults are strict: `exp` is required, clocks may disagree by at most 60 seconds, and tokens above
/// 8 KiB are refused before parsing.
public struct TokenValidation: Sendable {
    /// The required `iss`, compared exactly; `nil` skips the check.
    public var issuer: String?
    /// An audience the token's `aud` must contain; `nil` skips the check.
    public var audience: String?
    /// The required `typ` header (compared case-insensitively); binds a token to its purpose.
    public var type: String?
    /// How far clocks may disagree when checking `exp`, `nbf` and `iat`, in seconds (default 60).
    public var leeway: Double
    /// Whether a token without `exp` is rejected (default `true`).
    public var requiresExpiration: Bool
    /// The largest token accepted, in bytes (default 8 KiB).
    public var maximumTokenSize: Int
    /// `crit` header extensions the caller handles (default: none, so any `crit` is rejected).
    public var understoodCriticalParameters: Set<String>
    /// The clock, in seconds since 1970; replace it in tests.
    public var now: @Sendable () -> Double

    /// Creates validation rules.
    public init(
        issuer: String? = nil,
        audience: String? = nil,
        type: String? = nil,
        leeway: Double = 60,
        requiresExpiration: Bool = true,
        maximumTokenSize: Int = JWS.defaultMaximumSize,
        understoodCriticalParameters: Set<String> = [],
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.issuer = issuer
        self.audience = audience
        self.type = type
        self.leeway = leeway
        self.requiresExpiration = requiresExpiration
        self.maximumTokenSize = maximumTokenSize
        self.understoodCriticalParameters = understoodCriticalParameters
        self.now = now
    }

    /// Checks the header's purpose.
    func check(_ header: JOSEHeader) throws(TokenError) {
        guard let type else { return }
        guard let actual = header.type, actual.caseInsensitiveEquals(type) else {
            throw TokenError.wrongTokenType.with(detail: "expected typ \(type)")
        }
    }

    /// Checks the registered claims against the rules at the given moment.
    func check(_ claims: RegisteredClaims, at now: Double) throws(TokenError) {
        if let expiresAt = claims.expiresAt {
            if now - leeway >= expiresAt { throw TokenError.expired }
        } else if requiresExpiration {
            throw TokenError.missingClaim.with(detail: "exp")
        }
        if let notBefore = claims.notBefore, now + leeway < notBefore { throw TokenError.notYetValid }
        if let issuedAt = claims.issuedAt, now + leeway < issuedAt { throw TokenError.issuedInFuture }
        if let issuer, claims.issuer != issuer { throw TokenError.invalidIssuer }
        if let audience, !claims.audience.contains(audience) { throw TokenError.invalidAudience }
    }
}

extension String {
    /// ASCII case-insensitive equality, enough for media types and auth schemes.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let lhs = utf8, rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        for (a, b) in zip(lhs, rhs) where a != b {
            let lowerA = (a >= 65 && a <= 90) ? a + 32 : a
            let lowerB = (b >= 65 && b <= 90) ? b + 32 : b
            if lowerA != lowerB { return false }
        }
        return true
    }
}
