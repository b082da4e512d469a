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

    /// The credentials among a framework's raw header fields, found in one pass without validating the others.
    ///
    /// Names compare ignoring ASCII case. Several `Authorization` fields read as one, joined with ", " as
    /// `HTTPFields` joins them; `Cookie` fields stay separate, in order.
    ///
    /// - Parameter fields: The request's header fields as name and value pairs (Vapor's `HTTPHeaders` is one).
    @inlinable
    public init<Fields: Sequence>(fields: Fields) where Fields.Element == (name: String, value: String) {
        self.init()
        for (name, value) in fields {
            if Self.name(name, equals: "cookie") {
                cookies.append(value)
            } else if Self.name(name, equals: "authorization") {
                authorization = authorization.map { $0 + ", " + value } ?? value
            }
        }
    }

    /// Whether a field name equals a lowercase one, ignoring ASCII case.
    @inlinable
    static func name(_ name: String, equals lowercased: String) -> Bool {
        guard name.utf8.count == lowercased.utf8.count else { return false }
        return zip(name.utf8, lowercased.utf8).allSatisfy { byte, expected in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte) == expected
        }
    }
}
