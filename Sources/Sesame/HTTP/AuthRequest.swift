import HTTPTypes

/// A request as Sesame's handlers see it: the head, the collected body, and the client's address.
///
/// Integrations build it from their framework's request; Sesame never sees a framework type.
public struct AuthRequest: Sendable {
    /// The request line and header fields.
    public var head: HTTPRequest
    /// The body, collected by the integration (which caps its size).
    public var body: [UInt8]
    /// The client's IP address: integrations set the socket's peer, and the handler replaces it with the address
    /// its ``AuthConfiguration/trustedProxies`` forwarded, if any.
    public var clientAddress: String?

    /// Creates a request.
    public init(head: HTTPRequest, body: [UInt8] = [], clientAddress: String? = nil) {
        self.head = head
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The path without the query.
    public var path: String {
        let full = head.path ?? "/"
        return String(full.prefix { $0 != "?" })
    }

    /// The decoded query parameters, in order.
    public var query: URLEncodedForm {
        let full = head.path ?? ""
        guard let mark = full.firstIndex(of: "?") else { return URLEncodedForm() }
        return URLEncodedForm(parsing: full[full.index(after: mark)...])
    }

    /// The decoded `application/x-www-form-urlencoded` body, if the request has one.
    public var form: URLEncodedForm {
        guard let type = head.headerFields[.contentType]?.lowercased(), type.hasPrefix("application/x-www-form-urlencoded") else {
            return URLEncodedForm()
        }
        return URLEncodedForm(parsing: String(decoding: body, as: UTF8.self))
    }

    /// The value of the cookie named `name`, if the request carries it (non-empty).
    public func cookie(named name: String) -> String? {
        CookieHeader.value(named: name, in: head.headerFields)
    }

    /// The query and form parameters together (the form's values win).
    public var parameters: URLEncodedForm { query.merging(form) }

    /// Whether the request is a browser navigation, which should see redirects and pages rather than JSON.
    ///
    /// Fetch Metadata (`Sec-Fetch-Mode: navigate`) decides when present; otherwise an `Accept` that prefers
    /// `text/html` over JSON does.
    public var isBrowserNavigation: Bool { head.isBrowserNavigation }
}

extension HTTPField.Name {
    /// `Sec-Fetch-Mode`.
    static let secFetchMode = HTTPField.Name("Sec-Fetch-Mode")!
    /// `Sec-Fetch-Site`.
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
