import HTTPTypes

/// A response from Sesame's handlers: the head and the body.
public struct AuthResponse: Sendable {
    /// The status line and header fields.
    public var head: HTTPResponse
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    public init(head: HTTPResponse, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }

    /// Wraps a head-only response, such as ``SessionTokens/cookie(_:redirect:)``'s redirect.
    public init(_ head: HTTPResponse) {
        self.init(head: head)
    }

    /// A JSON response.
    ///
    /// - Parameters:
    ///   - value: The body.
    ///   - status: The status (default 200).
    public static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> AuthResponse {
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = "application/json; charset=utf-8"
        head.headerFields[.cacheControl] = "no-store"
        return AuthResponse(head: head, body: value.jsonBytes)
    }

    /// An HTML page with a strict Content-Security-Policy (no scripts, inline styles only) and a referrer for its
    /// own origin only (`same-origin`): with `no-referrer`, browsers send `Origin: null` on the page's form posts,
    /// which the origin checks refuse.
    ///
    /// - Parameters:
    ///   - html: The document.
    ///   - status: The status (default 200).
    public static func html(_ html: String, status: HTTPResponse.Status = .ok) -> AuthResponse {
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = "text/html; charset=utf-8"
        head.headerFields[.cacheControl] = "no-store"
        head.headerFields[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        head.headerFields[.referrerPolicy] = "same-origin"
        head.headerFields[.xContentTypeOptions] = "nosniff"
        return AuthResponse(head: head, body: Array(html.utf8))
    }

    /// A redirect.
    ///
    /// - Parameters:
    ///   - location: Where to.
    ///   - status: `302 Found` by default; `303 See Other` after a form post.
    public static func redirect(to location: String, status: HTTPResponse.Status = .found) -> AuthResponse {
        var head = HTTPResponse(status: status)
        head.headerFields[.location] = location
        head.headerFields[.cacheControl] = "no-store"
        return AuthResponse(head: head)
    }
}

extension HTTPField.Name {
    /// `X-Content-Type-Options`.
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
