import HTTPTypes

/// Refuses state-changing requests that a browser sent from another site with the session cookie attached.
///
/// `SameSite=Lax` keeps the cookie off most cross-site posts, but not off a sibling subdomain's (same site) or an
/// old browser's. So ``SessionFlow`` refuses, with `403` and `{"error":"cross_site_request"}`, a request that
/// - changes state (any method but `GET`, `HEAD` and `OPTIONS`),
/// - is authenticated by the session *cookie* (a `Bearer` token is not sent by the browser on its own), and
/// - says it comes from elsewhere: its `Origin` is neither this site (the request's own host) nor a trusted
///   origin; or, without `Origin`, `Sec-Fetch-Site` is `same-site` or `cross-site`; or, without either, its
///   `Referer` is from another origin. A request with none of the three comes from a non-browser client.
///
/// "This site" is the request's host and port (`Host` or `:authority`), compared with the `Origin`'s; the scheme is not
/// compared (a request does not say it behind a proxy; browsers treat http and https as different sites and the
/// `Secure` session cookie never travels over http).
///
/// A route that must accept such requests (a payment provider's form post back to the app) opts out by its path.
/// Behind a proxy that rewrites `Host`, list the public origin in ``trustedOrigins``.
public struct CrossSiteProtection: Sendable {
    /// Origins besides the request's own host that may send state-changing requests (`scheme://host[:port]`).
    public var trustedOrigins: Set<String>
    /// Paths that accept cross-site requests: exact paths, or prefixes ending in `*` (`/webhooks/*`).
    public var exemptPaths: [String]
    /// Whether the protection is on (default `true`).
    public var isEnabled: Bool

    /// Creates the protection.
    ///
    /// - Parameters:
    ///   - trustedOrigins: Other origins (or URLs, whose origin is taken) allowed to send state-changing requests,
    ///     for example the app's public base URL behind a proxy, or a separate frontend's origin.
    ///   - exemptPaths: Paths that opt out: exact, or a prefix ending in `*`.
    ///   - isEnabled: Whether to refuse at all (default `true`).
    public init(trustedOrigins: [String] = [], exemptPaths: [String] = [], isEnabled: Bool = true) {
        self.trustedOrigins = Set(trustedOrigins.compactMap(OriginPolicy.origin(of:)))
        self.exemptPaths = exemptPaths
        self.isEnabled = isEnabled
    }

    /// No protection: for routes whose requests never carry the session cookie, or an app that checks itself.
    public static let disabled = CrossSiteProtection(isEnabled: false)

    /// Whether a method changes state: every method but `GET`, `HEAD` and `OPTIONS`.
    @inlinable
    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        method != .get && method != .head && method != .options
    }

    /// The refusal of a cookie-authenticated request, or `nil` when it may proceed.
    ///
    /// - Parameter request: A request the session cookie authenticated.
    /// - Returns: `403` with the stable code `cross_site_request`, or `nil`.
    @inlinable
    func refusal(for request: some SessionFlowRequest) -> AuthResponse? {
        guard isEnabled, CrossSiteProtection.changesState(request.method) else { return nil }
        return refusalOfStateChange(request)
    }

    /// The refusal of a state-changing request, past the method check.
    @usableFromInline
    func refusalOfStateChange(_ request: some SessionFlowRequest) -> AuthResponse? {
        guard !comesFromThisSite(request), !isExempt(request.pathWithoutQuery) else { return nil }
        return .json(
            ["error": "cross_site_request", "error_description": "a state-changing request with the session cookie must come from this site"],
            status: .forbidden)
    }

    /// Whether the request's `Origin` (or, without one, `Sec-Fetch-Site`, then `Referer`) says it comes from this
    /// site or a trusted origin; `true` when it carries none of them.
    func comesFromThisSite(_ request: some SessionFlowRequest) -> Bool {
        if let origin = request.field(.origin) {
            return isAllowed(origin: origin, request: request)
        }
        if let site = request.field(.secFetchSite)?.lowercased() {
            return site == "same-origin" || site == "none"
        }
        if let referer = request.field(.referer) {
            return isAllowed(origin: referer, request: request)
        }
        return true
    }

    /// Whether a URL's origin is trusted or is the request's own host (`null` and anything unparsable are not).
    private func isAllowed(origin url: String, request: some SessionFlowRequest) -> Bool {
        guard let origin = OriginPolicy.origin(of: url) else { return false }
        if trustedOrigins.contains(origin) { return true }
        guard let authority = request.authority?.lowercased() else { return false }
        let host = origin.drop { $0 != "/" }.dropFirst(2)
        return host == CrossSiteProtection.withoutDefaultPort(authority, https: origin.hasPrefix("https:"))
    }

    /// An authority without the scheme's default port.
    private static func withoutDefaultPort(_ authority: String, https: Bool) -> Substring {
        let suffix = https ? ":443" : ":80"
        return authority.hasSuffix(suffix) ? authority.dropLast(suffix.count) : authority[...]
    }

    /// Whether a path opted out.
    private func isExempt(_ path: Substring) -> Bool {
        exemptPaths.contains { exempt in
            exempt.hasSuffix("*") ? path.hasPrefix(exempt.dropLast()) : path == exempt
        }
    }
}
