import HTTPTypes

/// What ``SessionFlow`` (and ``CORSPolicy``) reads of a request: its credentials always, the rest only to decide a
/// refusal or a CORS answer.
///
/// `HTTPRequest` conforms. An integration whose requests are not `HTTPRequest`s (Vapor) conforms a thin view of its
/// own request, so that the common request costs one pass over the headers for the credentials and nothing more.
public protocol SessionFlowRequest: Sendable {
    /// The request method.
    var method: HTTPRequest.Method { get }
    /// The host (and port) the request was sent to: the `Host` field or HTTP/2's `:authority`.
    var authority: String? { get }
    /// The request target's path and query, read only to refuse (a sign-in redirect names the page wanted).
    var pathAndQuery: String { get }
    /// A header field's value, read only to decide a refusal or a CORS answer; a field that appears more than once
    /// reads as its values joined with ", " (as `HTTPFields` reads it).
    ///
    /// - Parameter name: The field's name.
    /// - Returns: Its value, if the request has the field.
    func field(_ name: HTTPField.Name) -> String?
    /// The request's `Authorization` and `Cookie` fields.
    var sessionCredentials: SessionCredentials { get }
}

extension SessionFlowRequest {
    /// The path without the query.
    var pathWithoutQuery: Substring {
        let full = pathAndQuery
        return full[..<(full.firstIndex(of: "?") ?? full.endIndex)]
    }

    /// Whether the request is a browser navigating to a page (so a refusal redirects rather than answering JSON):
    /// Fetch Metadata (`Sec-Fetch-Mode: navigate`) decides when present; otherwise an `Accept` that prefers
    /// `text/html` over JSON does.
    var isBrowserNavigation: Bool {
        if let mode = field(.secFetchMode) { return mode.lowercased() == "navigate" }
        guard let accept = field(.accept)?.lowercased(), let html = accept.range(of: "text/html") else { return false }
        if let json = accept.range(of: "application/json") { return html.lowerBound < json.lowerBound }
        return true
    }
}

extension HTTPRequest: SessionFlowRequest {
    /// The path and query (`/` when the request has none).
    public var pathAndQuery: String { path ?? "/" }

    /// A header field's value (several joined, as `HTTPFields` joins them).
    public func field(_ name: HTTPField.Name) -> String? { headerFields[name] }

    /// The request's `Authorization` and `Cookie` fields.
    @inlinable
    public var sessionCredentials: SessionCredentials { SessionCredentials(self) }
}
