import HTTPTypes

/// What a request may carry to prove its session, as raw text: its `Authorization` field and its `Cookie`
/// fields.
///
/// Session resolution reads nothing else. An integration whose requests are not `HTTPRequest`s (Vapor) hands
/// over just these two, instead of converting and validating every header field of every request.
public struct SessionCredentials: Sendable {
    /// The `Authorization` field's value, if the request has one.
    public var authorization: String?
    /// The values of the request's `Cookie` fields, in order (HTTP/2 may split cookies over several fields).
    public var cookies: [String]

    /// Creates credentials from raw field values.
    ///
    /// - Parameters:
    ///   - authorization: The `Authorization` field's value, if any.
    ///   - cookies: The `Cookie` fields' values, in order.
    @inlinable
    public init(authorization: String? = nil, cookies: [String] = []) {
        self.authorization = authorization
        self.cookies = cookies
    }

    /// The credentials an `HTTPRequest` carries.
    ///
    /// - Parameter request: The request.
    @inlinable
    public init(_ request: HTTPRequest) {
        self.init(authorization: request.headerFields[.authorization], cookies: request.headerFields[values: .cookie])
    }
}
