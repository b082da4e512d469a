/// The apps and lifetimes of ``NativeAppSessions``.
public struct NativeAppConfiguration: Sendable {
    /// The registered apps, by ID.
    public var clients: [String: NativeAppClient]
    /// Seconds an access token (a session token from ``SessionTokens``) lives (default 15 minutes).
    public var accessTokenLifetime: Double
    /// Seconds a refresh-token family lives from its sign-in, however often it rotates (default 30 days).
    public var refreshTokenLifetime: Double
    /// Seconds during which the refresh token just rotated out still answers, with the same new pair: a
    /// client's retry after a lost response is not taken for theft (default 5 seconds). After it, presenting
    /// that token revokes the whole family.
    public var reuseWindow: Double
    /// Seconds the one-time code handed to the app's redirect URI can be exchanged (default 60).
    public var codeLifetime: Double
    /// Seconds the app's sign-in in the browser may take, from its start to the code (default 10 minutes).
    public var signInLifetime: Double
    /// The most access tokens a family remembers (to revoke them with it); older ones are revoked at once when a
    /// family rotates past it (default 32).
    public var maximumAccessTokensPerFamily: Int
    /// Where refresh-token reuse is counted and the store's operations timed (default: the metrics backend
    /// `MetricsSystem.bootstrap` installed).
    public var metrics: SesameMetrics
    /// Where refresh-token reuse, an app's sign-out and "sign out everywhere" are recorded (default: swift-log).
    public var audit: AuditLog

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - clients: The registered apps.
    ///   - accessTokenLifetime: Seconds an access token lives (default 900).
    ///   - refreshTokenLifetime: Seconds a refresh-token family lives (default 30 days).
    ///   - reuseWindow: Seconds a rotated-out refresh token still answers with the same pair (default 5).
    ///   - codeLifetime: Seconds a one-time code lives (default 60).
    ///   - signInLifetime: Seconds the browser sign-in may take (default 600).
    ///   - maximumAccessTokensPerFamily: Access tokens remembered per family (default 32).
    ///   - metrics: Where reuse is counted and store operations timed.
    ///   - audit: Where reuse and revocations are recorded.
    public init(
        clients: [NativeAppClient], accessTokenLifetime: Double = 900, refreshTokenLifetime: Double = 30 * 86_400, reuseWindow: Double = 5,
        codeLifetime: Double = 60, signInLifetime: Double = 600, maximumAccessTokensPerFamily: Int = 32, metrics: SesameMetrics = SesameMetrics(),
        audit: AuditLog = AuditLog()
    ) {
        self.audit = audit
        self.clients = Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.reuseWindow = reuseWindow
        self.codeLifetime = codeLifetime
        self.signInLifetime = signInLifetime
        self.maximumAccessTokensPerFamily = maximumAccessTokensPerFamily
        self.metrics = metrics
    }
}
