/// How session tokens are issued and checked.
public struct SessionConfiguration: Sendable {
    /// How long a new session lasts, in seconds (default 30 days).
    public var lifetime: Double
    /// Signed (JWS, the default) or encrypted (JWE) tokens.
    public var format: TokenFormat
    /// The `iss` written into tokens and required when verifying; `nil` (the default) leaves it out.
    public var issuer: String?
    /// The `aud` written into tokens and required when verifying; `nil` (the default) leaves it out.
    public var audience: String?
    /// How far clocks may disagree, in seconds (default 60).
    public var leeway: Double
    /// The largest token accepted, in bytes, checked before parsing (default 8 KiB).
    public var maximumTokenSize: Int
    /// The session cookie's name and attributes.
    public var cookie: SessionCookie
    /// How many verified tokens to remember so that verifying them again skips the signature check
    /// (default 10,000; 0 turns the cache off).
    public var cacheCapacity: Int
    /// Where the verified-token cache's hits and misses are counted (default: the metrics backend
    /// `MetricsSystem.bootstrap` installed).
    public var metrics: SesameMetrics
    /// Where sign-outs and revoked sessions are recorded (default: swift-log); the new session of a sign-in is named in the
    /// handler's `sign_in` event.
    public var audit: AuditLog

    /// Creates a session configuration.
    public init(
        lifetime: Double = 30 * 24 * 60 * 60,
        format: TokenFormat = .signed,
        issuer: String? = nil,
        audience: String? = nil,
        leeway: Double = 60,
        maximumTokenSize: Int = JWS.defaultMaximumSize,
        cookie: SessionCookie = SessionCookie(),
        cacheCapacity: Int = 10_000,
        metrics: SesameMetrics = SesameMetrics(),
        audit: AuditLog = AuditLog()
    ) {
        self.lifetime = lifetime
        self.format = format
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.maximumTokenSize = maximumTokenSize
        self.cookie = cookie
        self.cacheCapacity = cacheCapacity
        self.metrics = metrics
        self.audit = audit
    }
}
