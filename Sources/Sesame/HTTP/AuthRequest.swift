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

    /// Creates a request from a framework's raw parts, for integrations whose requests are not `HTTPRequest`s.
    ///
    /// A field whose name is not a valid token is dropped; an unknown method reads as `GET`.
    ///
    /// - Parameters:
    ///   - method: The method's name.
    ///   - path: The path and query, as the request line carries them.
    ///   - fields: The header fields as name and value pairs, in order.
    ///   - body: The collected body.
    ///   - clientAddress: The socket's peer address.
    public init<Fields: Sequence>(method: String, path: String, fields: Fields, body: [UInt8] = [], clientAddress: String? = nil)
    where Fields.Element == (name: String, value: String) {
        var headerFields = HTTPFields()
        var authority: String?
        for (name, value) in fields {
            guard let name = HTTPField.Name(name) else { continue }
            if authority == nil, name.canonicalName == "host" { authority = value }
            headerFields.append(HTTPField(name: name, value: value))
        }
        var head = HTTPRequest(method: HTTPRequest.Method(method) ?? .get, scheme: nil, authority: authority, path: path)
        head.headerFields = headerFields
        self.init(head: head, body: body, clientAddress: clientAddress)
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

    /// The body's parameters, from an `application/x-www-form-urlencoded` body or a JSON object's string members;
    /// never the query (secrets such as passwords must not travel in URLs, which are logged).
    public var formOrJSON: URLEncodedForm {
        if let object = jsonBody {
            return URLEncodedForm(object.compactMap { member in member.value.stringValue.map { (name: member.key, value: $0) } })
        }
        return form
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
