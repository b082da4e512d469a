import Tracing

/// Where the auth routes live and how they answer.
public struct AuthConfiguration: Sendable {
    /// The app's public origin and path base, for example `https://app.example` (no trailing slash).
    ///
    /// Every URL Sesame builds (callbacks, links) starts with it; the request's `Host` is never used.
    public var baseURL: String
    /// The path the handler is mounted under (default `/auth`).
    public var prefix: String
    /// Where browser navigations go when a flow fails, with `?error=CODE` appended (default: the handler's
    /// own error page at `{prefix}/error`).
    public var errorURL: String?
    /// Origins besides the base URL's that may post to the auth routes (for example a separate frontend).
    public var trustedOrigins: [String]
    /// The largest request body accepted, in bytes (default 64 KiB); integrations enforce it.
    public var maximumBodySize: Int
    /// The reverse proxies whose `X-Forwarded-For` (or `Forwarded`) names the client (default: none).
    public var trustedProxies: TrustedProxies
    /// Called with the duration of each step of a sign-in callback, whether it succeeded or not, for metrics
    /// (default: none, and then nothing is timed). It runs on the request's task, so it must return quickly.
    public var stepObserver: (@Sendable (FlowStep, Duration) -> Void)?
    /// Where sign-ins, refusals and rate-limited requests are counted (default: the metrics backend
    /// `MetricsSystem.bootstrap` installed; ``SesameMetrics/disabled`` for none).
    public var metrics: SesameMetrics
    /// Where a sign-in's spans go: `sesame.sign_in` around a provider's callback, a child span per
    /// ``FlowStep`` (`sesame.step.code_exchange`, …), and the provider HTTP client's own spans beneath (default: the tracer
    /// `InstrumentationSystem.bootstrap` installed; `nil` for none). Attributes name the provider, the step and a
    /// refusal's stable code, never a token, a code, an address or a user.
    public var tracer: (any Tracer)?
    /// Where sign-ins, refused sign-ins and sign-outs through the handler are recorded, with the client's address
    /// and user agent (default: swift-log alone; add an ``AuditTrail`` for an account page's recent sign-ins).
    public var audit: AuditLog

    /// Creates a configuration.
    public init(
        baseURL: String,
        prefix: String = "/auth",
        errorURL: String? = nil,
        trustedOrigins: [String] = [],
        maximumBodySize: Int = 64 * 1024,
        trustedProxies: TrustedProxies = .none,
        stepObserver: (@Sendable (FlowStep, Duration) -> Void)? = nil,
        metrics: SesameMetrics = SesameMetrics(),
        tracer: (any Tracer)? = InstrumentationSystem.tracer,
        audit: AuditLog = AuditLog()
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.prefix = prefix == "/" ? "" : (prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix)
        self.errorURL = errorURL
        self.trustedOrigins = trustedOrigins
        self.maximumBodySize = maximumBodySize
        self.trustedProxies = trustedProxies
        self.stepObserver = stepObserver
        self.metrics = metrics
        self.tracer = tracer is NoOpTracer ? nil : tracer
        self.audit = audit
    }

    /// The origin (`scheme://host[:port]`) of the base URL.
    public var origin: String { OriginPolicy.origin(of: baseURL) ?? baseURL }

    /// Who may post to the auth routes: the base URL's origin and the trusted origins.
    public var originPolicy: OriginPolicy { OriginPolicy(allowedOrigins: [baseURL] + trustedOrigins) }

    /// Where browsers may be sent: this site's paths, the base URL's origin and the trusted origins.
    public var redirectPolicy: RedirectPolicy { RedirectPolicy(baseURL: baseURL, trustedOrigins: trustedOrigins) }

    /// The absolute URL of a path under the prefix.
    func url(_ path: String) -> String { baseURL + prefix + path }

    /// A location made absolute against the base URL's origin (a path such as `/dashboard` becomes
    /// `https://app.example/dashboard`); absolute URLs are returned as they are.
    func absolute(_ location: String) -> String {
        guard location.hasPrefix("/"), !location.hasPrefix("//") else { return location }
        return origin + location
    }
}
