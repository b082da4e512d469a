import Crypto
import HTTPTypes

/// Auth.js-style double-submit CSRF protection, with a signed cookie: the cookie holds
/// `token|base64url(HMAC-SHA-256(key, token))`, and a state-changing form must send the same `token` as `csrfToken`.
///
/// Auth.js stores `token|SHA-256(token + secret)` and compares with `===`; Sesame uses an HMAC and a constant-time
/// comparison. A cookie whose MAC does not verify is ignored (and replaced), so a subdomain that can write
/// cookies cannot plant a token of its choosing. On https the cookie carries the `__Host-` prefix.
public struct CSRFProtection: Sendable {
    /// The MAC states of the keys, the signing one first; a token made under any of them is accepted, so forms
    /// loaded before a key rotation still post (and the keys follow a ``KeyRing``'s).
    private let macs: KeyDerived<[PrecomputedHMAC<SHA256>]>
    /// The cookie's options (default name `sesame-csrf`, `HttpOnly`, `SameSite=Lax`).
    public let cookie: SessionCookie
    private let cookieNames: [[UInt8]]

    /// Creates CSRF protection with a key derived (HKDF-SHA-256) from the app's active key.
    ///
    /// - Parameters:
    ///   - keys: The app's key set (a verification-only set gets a random per-process key instead). With a
    ///     ``KeyRing``'s set, tokens are made under the ring's new active key once it is replaced; tokens made under a
    ///     key the ring dropped are refused.
    ///   - cookie: The cookie's options (``AuthHandler`` uses `SessionCookie(name: "sesame-csrf", baseURL:)`).
    public init(keys: KeySet, cookie: SessionCookie = SessionCookie(name: "sesame-csrf")) {
        let macs = KeyDerived(from: keys) { keys in
            keys.rotatingDerivedKeys(purpose: "sesame/csrf/v1").map { PrecomputedHMAC<SHA256>(key: SymmetricKey(data: $0)) }
        }
        self.init(macs: macs, cookie: cookie)
    }

    init(key: SymmetricKey, cookie: SessionCookie) {
        self.init(macs: KeyDerived(fixed: [PrecomputedHMAC<SHA256>(key: key)]), cookie: cookie)
    }

    private init(macs: KeyDerived<[PrecomputedHMAC<SHA256>]>, cookie: SessionCookie) {
        self.macs = macs
        self.cookie = cookie
        self.cookieNames = cookie.acceptedNames.map { Array($0.utf8) }
    }

    /// The request's CSRF token: the one in its valid cookie, or a new one and the `Set-Cookie` that stores it.
    ///
    /// The cookie is read only under the name it is set under (on https its `__Host-` name).
    ///
    /// - Parameter request: The request.
    /// - Returns: The token to put in forms (and return from `GET /auth/csrf`), and a cookie to set if new.
    public func token(for request: HTTPRequest) -> (token: String, setCookie: String?) {
        if let token = validToken(in: request) { return (token, nil) }
        let token = RandomToken.make(byteCount: 32)
        let value = token + "|" + signature(of: token, with: macs.value[0])
        return (token, cookie.setCookie(value, maxAge: 60 * 60 * 24 * 30))
    }

    /// A response that carries the request's CSRF token (a page with forms, or the token as JSON), with the cookie
    /// that stores a new token when the request had none.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - respond: Draws the response around the token.
    /// - Returns: The response, with its `Set-Cookie` when the token is new.
    public func responding(to request: HTTPRequest, _ respond: (_ token: String) -> AuthResponse) -> AuthResponse {
        let (token, setCookie) = token(for: request)
        var response = respond(token)
        if let setCookie { response.head.headerFields.append(HTTPField(name: .setCookie, value: setCookie)) }
        return response
    }

    /// Whether a submitted token matches the request's valid CSRF cookie (constant-time).
    ///
    /// - Parameters:
    ///   - request: The request, carrying the cookie.
    ///   - submitted: The `csrfToken` form field or header value.
    public func verify(_ request: HTTPRequest, submitted: String?) -> Bool {
        guard let submitted, let token = validToken(in: request) else { return false }
        return ConstantTime.equals(Array(submitted.utf8), Array(token.utf8))
    }

    /// The token of the request's CSRF cookie when its MAC verifies.
    private func validToken(in request: HTTPRequest) -> String? {
        guard let value = CookieHeader.best(names: cookieNames, in: request.headerFields) else { return nil }
        let parts = value.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 43, Base64URL.decode(parts[0])?.count == 32 else { return nil }
        let token = String(parts[0])
        let presented = Array(parts[1].utf8)
        var valid = false
        for mac in macs.value {
            // Every key is tried, so the time taken does not say which one matched.
            if ConstantTime.equals(presented, Array(signature(of: token, with: mac).utf8)) { valid = true }
        }
        return valid ? token : nil
    }

    private func signature(of token: String, with mac: PrecomputedHMAC<SHA256>) -> String {
        Base64URL.encode(Array(token.utf8).withUnsafeBytes { mac.authenticationCode(for: $0) })
    }
}
