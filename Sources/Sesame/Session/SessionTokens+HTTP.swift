import Foundation
import HTTPTypes

extension SessionTokens {
    // MARK: Responses

    /// Creates a session and redirects with it in a cookie (SST's `Session.cookie`).
    ///
    /// The response is a `302 Found` to `redirect` with a `Set-Cookie` that is `HttpOnly`, `SameSite=Lax`,
    /// `Path=/`, `Max-Age` equal to the token lifetime (at most 400 days), and `Secure` with the `__Host-` prefix
    /// unless the cookie is configured for plain-http development (``SessionCookie/secure``).
    /// `Cache-Control: no-store` keeps it out of caches.
    ///
    /// - Parameters:
    ///   - subject: Whom the session is about.
    ///   - redirect: Where to send the browser; the app chooses it (never pass unchecked user input).
    /// - Returns: The redirect response.
    /// - Throws: ``TokenError`` if the token cannot be created.
    public func cookie(_ subject: Subject, redirect: String) throws(TokenError) -> HTTPResponse {
        try cookie(subject, redirect: redirect, replacing: nil)
    }

    /// As ``cookie(_:redirect:)``; a token larger than one cookie is split into `name.0`, `name.1`, … and
    /// the cookies of the other shape that `request` carried are cleared.
    func cookie(_ subject: Subject, redirect: String, replacing request: HTTPRequest?) throws(TokenError) -> HTTPResponse {
        let current = now()
        let token = try create(subject)
        // The cookie ends no later than the token: `exp` is the issuing second plus the whole seconds of the lifetime.
        let maxAge = Int((current.rounded(.down) + configuration.lifetime.rounded(.down) - current).rounded(.down))
        var response = HTTPResponse(status: .found)
        response.headerFields[.location] = redirect
        for value in ChunkedCookie(cookie: configuration.cookie).setCookies(token, maxAge: maxAge, replacing: request?.headerFields[values: .cookie] ?? []) {
            response.headerFields.append(HTTPField(name: .setCookie, value: value))
        }
        response.headerFields[.cacheControl] = "no-store"
        return response
    }

    /// Creates a session and redirects with it as a `token` query parameter (SST's `Session.parameter`).
    ///
    /// The query the redirect already has is kept, and a fragment stays at the end. The client then sends
    /// the token as `Authorization: Bearer …`. `Referrer-Policy: no-referrer` keeps the token out of the
    /// `Referer` of the next page's requests.
    ///
    /// For native apps, prefer ``NativeAppSessions``: a redirect to an app's custom scheme can be intercepted by
    /// another app registered for it, and this token is a whole session; there, the redirect carries a one-time code
    /// bound to the app's PKCE challenge, and the session is a short access token with a rotating refresh token.
    ///
    /// - Parameters:
    ///   - subject: Whom the session is about.
    ///   - redirect: Where to send the client; the app chooses it (never pass unchecked user input).
    /// - Returns: The redirect response.
    /// - Throws: ``TokenError`` if the token cannot be created.
    public func parameter(_ subject: Subject, redirect: String) throws(TokenError) -> HTTPResponse {
        let token = try create(subject)
        var response = HTTPResponse(status: .found)
        response.headerFields[.location] = URLEncodedForm.appending(name: "token", value: token, to: redirect)
        response.headerFields[.cacheControl] = "no-store"
        response.headerFields[.referrerPolicy] = "no-referrer"
        return response
    }

    /// A response that clears the session cookie (sign-out), redirecting to `redirect`.
    ///
    /// - Parameter redirect: Where to send the browser.
    /// - Returns: A `302 Found` with an expiring `Set-Cookie` for the cookie's name.
    public func clearCookie(redirect: String) -> HTTPResponse {
        var response = HTTPResponse(status: .found)
        response.headerFields[.location] = redirect
        response.headerFields[.cacheControl] = "no-store"
        response.headerFields.append(HTTPField(name: .setCookie, value: configuration.cookie.clearCookie()))
        return response
    }

    // MARK: Requests

    /// The session token that credentials carry: `Authorization: Bearer …` (scheme matched case-insensitively)
    /// first, else the session cookie.
    ///
    /// - Parameter credentials: A request's `Authorization` and `Cookie` fields.
    /// - Returns: The token, or `nil` when they carry none.
    public func token(from credentials: SessionCredentials) -> String? {
        (credentials.authorization.flatMap(SessionTokens.bearerToken) ?? cookieToken(in: credentials.cookies)).map(String.init)
    }

    /// The session cookie's value in the `Cookie` fields `headers`, under the cookie's name only.
    @usableFromInline
    func cookieToken(in headers: [String]) -> Substring? {
        // Chunks are looked for only when the whole cookie is absent, so the usual case costs one pass.
        CookieHeader.bestSlice(names: cookieNames, inHeaders: headers)
            ?? ChunkedCookie(cookie: configuration.cookie).value(in: headers).map { $0[...] }
    }

    /// The verified session of a request, or `nil` when it carries no token.
    ///
    /// - Parameter request: The request.
    /// - Returns: The session, or `nil` when the request has no token.
    /// - Throws: ``TokenError`` when it has a token that does not verify.
    public func session(from request: HTTPRequest) async throws(TokenError) -> AuthSession<Subject>? {
        guard let token = token(from: SessionCredentials(request)) else { return nil }
        return try await verify(token)
    }

    /// The token of an `Authorization: Bearer …` value (the scheme matched case-insensitively), or `nil`.
    @usableFromInline
    static func bearerToken(_ authorization: String) -> Substring? {
        guard let space = authorization.firstIndex(of: " ") else { return nil }
        guard String(authorization[..<space]).caseInsensitiveEquals("bearer") else { return nil }
        let token = authorization[space...].drop(while: { $0 == " " })
        guard !token.isEmpty, !token.contains(" ") else { return nil }
        return token
    }
}

extension String {
    /// Percent-encodes everything but RFC 3986 unreserved characters.
    func addingPercentEncodingForQuery() -> String {
        var output = ""
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }

    private func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
