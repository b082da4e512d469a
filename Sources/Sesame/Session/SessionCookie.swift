/// How the session cookie is named and scoped.
///
/// Defaults are the secure ones: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` with the `__Host-`
/// name prefix whenever the cookie is sent over https. Only plain-http development on `localhost` or a
/// loopback address drops `Secure` (and with it the prefix, which browsers require to come with `Secure`).
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

    /// The cookie's name, without the `__Host-` prefix (default `sesame-session`).
    public var name: String
    /// The `Domain` attribute; `nil` (the default) scopes the cookie to the exact host.
    public var domain: String?
    /// The `Path` attribute (default `/`).
    public var path: String
    /// The `SameSite` attribute (default `Lax`).
    public var sameSite: SameSite
    /// Whether to send `Secure`: `nil` (the default) decides per response, dropping it only for plain-http
    /// redirects to `localhost` or a loopback address.
    public var secure: Bool?
    /// Whether a `Secure`, host-only, `Path=/` cookie gets the `__Host-` prefix (default `true`).
    public var usesHostPrefix: Bool

    /// Creates cookie options.
    public init(
        name: String = "sesame-session",
        domain: String? = nil,
        path: String = "/",
        sameSite: SameSite = .lax,
        secure: Bool? = nil,
        usesHostPrefix: Bool = true
    ) {
        self.name = name
        self.domain = domain
        self.path = path
        self.sameSite = sameSite
        self.secure = secure
        self.usesHostPrefix = usesHostPrefix
    }

    /// Whether the cookie is `Secure` for a response that redirects to `redirect`.
    func isSecure(redirect: String?) -> Bool {
        if let secure { return secure }
        guard let redirect else { return true }
        return !SessionCookie.isLoopbackHTTP(redirect)
    }

    /// The name the cookie is set under: `__Host-` + name when secure, host-only and at `/`.
    func effectiveName(secure: Bool) -> String {
        secure && usesHostPrefix && domain == nil && path == "/" ? "__Host-" + name : name
    }

    /// The names a request may carry the cookie under, the prefixed one first.
    var acceptedNames: [String] {
        usesHostPrefix && domain == nil && path == "/" ? ["__Host-" + name, name] : [name]
    }

    /// A `Set-Cookie` value that stores `value` for `maxAge` seconds.
    func setCookie(_ value: String, maxAge: Int, secure: Bool) -> String {
        setCookie(named: effectiveName(secure: secure), value, maxAge: maxAge, secure: secure)
    }

    /// A `Set-Cookie` value with these attributes under an explicit name (a chunk's `name.N`).
    func setCookie(named name: String, _ value: String, maxAge: Int, secure: Bool) -> String {
        var parts = ["\(name)=\(value)", "Path=\(path)", "Max-Age=\(maxAge)", "HttpOnly", "SameSite=\(sameSite)"]
        if secure { parts.append("Secure") }
        if let domain { parts.append("Domain=\(domain)") }
        return parts.joined(separator: "; ")
    }

    /// A `Set-Cookie` value that deletes the cookie.
    @usableFromInline
    func clearCookie(secure: Bool) -> String {
        setCookie("", maxAge: 0, secure: secure)
    }

    /// Whether a URL is plain http on `localhost` or a loopback address (development).
    static func isLoopbackHTTP(_ url: String) -> Bool {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") else { return false }
        let afterScheme = lowered.dropFirst("http://".count)
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.prefix { $0 != "]" }.dropFirst()
        } else {
            host = authority.prefix { $0 != ":" }
        }
        return host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host.hasPrefix("127.")
    }
}
