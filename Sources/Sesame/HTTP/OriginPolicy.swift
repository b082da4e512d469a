import HTTPTypes

/// Checks that a state-changing request comes from an allowed origin.
///
/// Browsers send `Origin` on cross-origin requests and on same-origin POSTs, and Fetch Metadata
/// (`Sec-Fetch-Site`) on every request. A request whose `Sec-Fetch-Site` is `cross-site`, or whose `Origin`
/// is present and not allowed (including `null`), is refused. Requests without either header come from
/// non-browser clients, which cookies' `SameSite` and CSRF tokens do not concern.
public struct OriginPolicy: Sendable, Hashable {
    /// The allowed origins, as `scheme://host[:port]`.
    public var allowedOrigins: Set<String>

    /// Creates a policy.
    ///
    /// - Parameter allowedOrigins: Allowed origins or URLs (their origins are taken).
    public init(allowedOrigins: [String]) {
        self.allowedOrigins = Set(allowedOrigins.compactMap(OriginPolicy.origin(of:)))
    }

    /// Whether the request may change state.
    public func allows(_ request: HTTPRequest) -> Bool {
        if let site = request.headerFields[.secFetchSite]?.lowercased(), site == "cross-site" { return false }
        guard let origin = request.headerFields[.origin] else { return true }
        return allowedOrigins.contains(origin.lowercased())
    }

    /// Whether a state-changing request that may carry cookies comes from an allowed origin, strictly: a
    /// cross-site `Sec-Fetch-Site`, a foreign or `null` `Origin`, or neither `Origin` nor an allowed `Referer`
    /// is refused (the Auth.js actions require this on every non-GET request that carries cookies).
    public func allowsStrictly(_ request: HTTPRequest) -> Bool {
        guard allows(request) else { return false }
        if request.headerFields[.origin] != nil { return true }
        guard request.headerFields[.cookie] != nil else { return true }
        guard let referer = request.headerFields[.referer], let origin = OriginPolicy.origin(of: referer) else { return false }
        return allowedOrigins.contains(origin)
    }

    /// Whether a request comes from another site, by any signal a browser sends: `Sec-Fetch-Site: cross-site`,
    /// an `Origin` that is not allowed (`null` included), or a `Referer` from an origin that is not allowed.
    /// Requests that carry none of these come from non-browser clients (or from the user typing a URL).
    ///
    /// Routes with a side effect beyond the browser, such as sending mail, refuse such requests whatever their
    /// method: a cross-site `<img>` or link is a GET.
    public func isCrossSite(_ request: HTTPRequest) -> Bool {
        if let site = request.headerFields[.secFetchSite]?.lowercased(), site == "cross-site" { return true }
        if let origin = request.headerFields[.origin], !allowedOrigins.contains(origin.lowercased()) { return true }
        if let referer = request.headerFields[.referer] {
            guard let origin = OriginPolicy.origin(of: referer), allowedOrigins.contains(origin) else { return true }
        }
        return false
    }

    /// Whether a request proves that it comes from an allowed origin: `Sec-Fetch-Site: same-origin` (set by the
    /// browser, not by pages), an allowed `Origin`, or a `Referer` from an allowed origin. A request with none of
    /// these (a cross-site page that suppressed its `Referer` in a browser without Fetch Metadata, a sibling
    /// subdomain, a non-browser client) proves nothing.
    public func provesAllowedOrigin(_ request: HTTPRequest) -> Bool {
        // Past `isCrossSite`, an `Origin` or `Referer` that is present is an allowed one.
        guard !isCrossSite(request) else { return false }
        return request.headerFields[.secFetchSite]?.lowercased() == "same-origin"
            || request.headerFields[.origin] != nil || request.headerFields[.referer] != nil
    }

    /// The origin of an absolute http(s) URL, lowercased, with default ports removed; `nil` otherwise.
    public static func origin(of url: String) -> String? {
        let lowered = url.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") { scheme = "https" } else if lowered.hasPrefix("http://") { scheme = "http" } else { return nil }
        let rest = lowered.dropFirst(scheme.count + 3)
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        if scheme == "https", authority.hasSuffix(":443") { authority = authority.dropLast(4) }
        if scheme == "http", authority.hasSuffix(":80") { authority = authority.dropLast(3) }
        return "\(scheme)://\(authority)"
    }
}
