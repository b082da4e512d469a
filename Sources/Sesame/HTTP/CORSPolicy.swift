import HTTPTypes

/// Cross-origin access for cookie-authenticated APIs: an explicit allow-list of origins, with credentials.
///
/// Only an origin on the list is echoed in `Access-Control-Allow-Origin`, with
/// `Access-Control-Allow-Credentials: true` and `Vary: Origin`; any other origin gets no CORS headers at all
/// (and a preflight from it gets `403`). The request's `Origin` is never reflected blindly, and `*` is never
/// combined with credentials.
public struct CORSPolicy: Sendable {
    /// The allowed origins, as `scheme://host[:port]`.
    public let allowedOrigins: Set<String>
    /// The methods allowed in preflights.
    public var allowedMethods: [HTTPRequest.Method]
    /// The request headers allowed in preflights.
    public var allowedHeaders: [String]
    /// How long browsers may cache a preflight, in seconds.
    public var maxAge: Int

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - allowedOrigins: Origins (or URLs, whose origins are taken) that may call with credentials.
    ///   - allowedMethods: Methods for preflights (default GET, POST, PUT, PATCH, DELETE).
    ///   - allowedHeaders: Request headers for preflights (default `Content-Type`, `Authorization`, `X-CSRF-Token`).
    ///   - maxAge: Preflight cache time in seconds (default 600).
    public init(
        allowedOrigins: [String],
        allowedMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete],
        allowedHeaders: [String] = ["Content-Type", "Authorization", "X-CSRF-Token"],
        maxAge: Int = 600
    ) {
        precondition(!allowedOrigins.contains("*"), "a credentialed CORS policy cannot allow every origin")
        self.allowedOrigins = Set(allowedOrigins.compactMap(OriginPolicy.origin(of:)))
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.maxAge = maxAge
    }

    /// The allowed origin of a request, if it has one that is on the list.
    public func allowedOrigin(of request: some SessionFlowRequest) -> String? {
        guard let origin = request.field(.origin), allowedOrigins.contains(origin.lowercased()) else { return nil }
        return origin.lowercased()
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), or `nil` when the
    /// request is not a preflight.
    public func preflightResponse(for request: some SessionFlowRequest) -> HTTPResponse? {
        guard request.method == .options, request.field(.accessControlRequestMethod) != nil else { return nil }
        guard let origin = allowedOrigin(of: request) else {
            var refused = HTTPResponse(status: .forbidden)
            refused.headerFields[.vary] = "Origin"
            return refused
        }
        var response = HTTPResponse(status: .noContent)
        response.headerFields[.accessControlAllowOrigin] = origin
        response.headerFields[.accessControlAllowCredentials] = "true"
        response.headerFields[.accessControlAllowMethods] = allowedMethods.map(\.rawValue).joined(separator: ", ")
        response.headerFields[.accessControlAllowHeaders] = allowedHeaders.joined(separator: ", ")
        response.headerFields[.accessControlMaxAge] = String(maxAge)
        response.headerFields[.vary] = "Origin"
        return response
    }

    /// The CORS fields to add to an actual response.
    public func responseFields(for request: some SessionFlowRequest) -> [HTTPField] {
        var fields = [HTTPField(name: .vary, value: "Origin")]
        guard let origin = allowedOrigin(of: request) else { return fields }
        fields.append(HTTPField(name: .accessControlAllowOrigin, value: origin))
        fields.append(HTTPField(name: .accessControlAllowCredentials, value: "true"))
        return fields
    }
}
