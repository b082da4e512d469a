/// The one cookie policy: how every cookie Sesame sets is named and scoped (the session cookie, the stored-session
/// cookie, the CSRF cookie, the OAuth flow cookies, a link's browser binding), and the `Set-Cookie` it is set and
/// cleared with. Apps can set their own cookies with it too (``setCookie(_:maxAge:)``).
///
/// Defaults are the secure ones: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure`, and the `__Host-` name prefix.
/// Whether a cookie is `Secure` is configuration, never read from a request: set ``secure`` from the app's
/// base URL with ``init(name:domain:path:sameSite:baseURL:usesHostPrefix:)`` (`Secure` unless the base URL is
/// plain http on `localhost` or a loopback address, for development). A cookie is read back only under the name it
/// is set under (``effectiveName``): with the defaults on https that is the `__Host-` name, so a cookie without the
/// prefix (which a sibling subdomain or a man-in-the-middle on plain http could plant) is ignored. A cookie with a
/// `Domain`, another `Path` or `usesHostPrefix: false` cannot carry the prefix, and is read under its plain name.
/// `Max-Age` never exceeds ``maximumAge`` (400 days, the most browsers keep).
public struct SessionCookie: Sendable, Hashable {
    /// The `SameSite` attribute.
    public struct SameSite: Sendable, Hashable, CustomStringConvertible {
        let value: String
        /// Sent on same-site requests and top-level navigations (the default).
        public static let lax = SameSite(value: "Lax")
        /// Sent on same-site requests only.
        public static let strict = SameSite(value: "Strict")
        /// Sent on every request; requires `Secure`.
        public static let none = SameSite(value: "None")
        public var description: String { value }
    }

    /// The longest `Max-Age` Sesame sets: 400 days, the limit browsers apply (RFC 6265bis).
    public static let maximumAge = 400 * 24 * 60 * 60

    /// The cookie's name, without the `__Host-` prefix (default `sesame-session`).
    public var name: String
    /// The `Domain` attribute; `nil` (the default) scopes the cookie to the exact host.
    public var domain: String?
    /// The `Path` attribute (default `/`).
    public var path: String
    /// The `SameSite` attribute (default `Lax`).
    public var sameSite: SameSite
    /// Whether the cookie is `Secure` (default `true`); `false` only for an app served over plain http in
    /// development (see ``isSecure(baseURL:)``).
    public var secure: Bool
    /// Whether a `Secure`, host-only, `Path=/` cookie gets the `__Host-` prefix (default `true`).
    public var usesHostPrefix: Bool

    /// Creates cookie options.
    public init(
        name: String = "sesame-session",
        domain: String? = nil,
        path: String = "/",
        sameSite: SameSite = .lax,
        secure: Bool = true,
        usesHostPrefix: Bool = true
    ) {
        self.name = name
        self.domain = domain
        self.path = path
        self.sameSite = sameSite
        self.secure = secure
        self.usesHostPrefix = usesHostPrefix
    }

    /// Creates cookie options for an app served at `baseURL`: `Secure` (with the `__Host-` prefix) unless the
    /// base URL is plain http on `localhost` or a loopback address.
    ///
    /// - Parameters:
    ///   - name: The cookie's name, without the prefix.
    ///   - domain: The `Domain` attribute (default none: host-only).
    ///   - path: The `Path` attribute (default `/`).
    ///   - sameSite: The `SameSite` attribute (default `Lax`).
    ///   - baseURL: The app's public base URL, for example `https://app.example`.
    ///   - usesHostPrefix: Whether a secure, host-only cookie at `/` gets the `__Host-` prefix (default `true`).
    public init(name: String = "sesame-session", domain: String? = nil, path: String = "/", sameSite: SameSite = .lax, baseURL: String, usesHostPrefix: Bool = true) {
        self.init(name: name, domain: domain, path: path, sameSite: sameSite, secure: SessionCookie.isSecure(baseURL: baseURL), usesHostPrefix: usesHostPrefix)
    }

    /// Whether cookies of an app served at `baseURL` are `Secure`: the one place Sesame decides it. Everything
    /// but plain-http development on this machine is: an `http://` base URL on another host (an app behind a TLS
    /// terminator, misconfigured) still gets `Secure` cookies, which browsers keep only over https, so the mistake
    /// shows at once instead of sending sessions in the clear.
    ///
    /// - Parameter baseURL: The app's public base URL.
    /// - Returns: `false` only for an `http://` base URL on `localhost`, a `.localhost` name or a loopback address.
    public static func isSecure(baseURL: String) -> Bool {
        !isLoopbackHTTP(baseURL)
    }

    /// Whether a URL is plain http on `localhost`, a `.localhost` name or a loopback address.
    static func isLoopbackHTTP(_ url: String) -> Bool {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") else { return false }
        let authority = lowered.dropFirst("http://".count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { return false }
        let host = authority.hasPrefix("[") ? authority.dropFirst().prefix { $0 != "]" } : authority.prefix { $0 != ":" }
        if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" { return true }
        guard let bytes = IPNetwork.parseAddress(String(host)), bytes.count == 4 else { return false }
        return bytes[0] == 127
    }

    /// The name the cookie is set and read under: `__Host-` + name when secure, host-only and at `/`.
    public var effectiveName: String {
        secure && usesHostPrefix && domain == nil && path == "/" ? "__Host-" + name : name
    }

    /// The names a request may carry the cookie under: only the name it is set under.
    var acceptedNames: [String] { [effectiveName] }

    /// A `Set-Cookie` value that stores `value` under ``effectiveName`` for `maxAge` seconds (at most ``maximumAge``),
    /// with this policy's attributes.
    ///
    /// - Parameters:
    ///   - value: The cookie's value (already cookie-safe, for example base64url).
    ///   - maxAge: Seconds the cookie lives.
    /// - Returns: The `Set-Cookie` field's value.
    public func setCookie(_ value: String, maxAge: Int) -> String {
        setCookie(named: effectiveName, value, maxAge: maxAge)
    }

    /// A `Set-Cookie` value with these attributes under an explicit name (a chunk's `name.N`).
    func setCookie(named name: String, _ value: String, maxAge: Int) -> String {
        var parts = ["\(name)=\(value)", "Path=\(path)", "Max-Age=\(max(0, min(maxAge, SessionCookie.maximumAge)))", "HttpOnly", "SameSite=\(sameSite)"]
        if secure { parts.append("Secure") }
        if let domain { parts.append("Domain=\(domain)") }
        return parts.joined(separator: "; ")
    }

    /// A `Set-Cookie` value that deletes the cookie.
    ///
    /// - Returns: The `Set-Cookie` field's value.
    public func clearCookie() -> String {
        setCookie("", maxAge: 0)
    }
}
