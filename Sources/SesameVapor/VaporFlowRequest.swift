import HTTPTypes
import Sesame
import Vapor

/// A Vapor request as `SessionFlow` reads it: the credentials found in one pass over the headers, anything else
/// only when the flow asks (Vapor builds the URL string from Foundation's `URLComponents`, which costs more than
/// resolving a cached session, so only a refusal reads it).
@usableFromInline
struct VaporFlowRequest: SessionFlowRequest {
    @usableFromInline let request: Request

    @inlinable
    init(_ request: Request) {
        self.request = request
    }

    @usableFromInline
    var method: HTTPRequest.Method { HTTPRequest.Method(request.method.rawValue) ?? .post }

    @usableFromInline
    var authority: String? { request.headers.first(name: .host) }

    @usableFromInline
    var pathAndQuery: String { request.url.string }

    /// The field's values joined with ", ", as `HTTPFields` reads a field that appears more than once.
    @usableFromInline
    func field(_ name: HTTPField.Name) -> String? {
        let values = request.headers[name.rawName]
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// The `Authorization` and `Cookie` fields, taken as they are (converting the request to an `HTTPRequest`
    /// would validate every field, and cost more than resolving a cached session).
    @usableFromInline
    var sessionCredentials: SessionCredentials { SessionCredentials(fields: request.headers) }
}
