import HTTPTypes
import Sesame
import Vapor

/// A Vapor request as ``SessionFlow`` reads it: the credentials found in one pass over the headers, anything else
/// only when the flow asks (Vapor builds the URL string from Foundation's `URLComponents`, which costs more than
/// resolving a cached session, so only a refusal reads it).
@usableFromInline
struct VaporFlowRequest: SessionFlowRequest {
    @usableFromInline let request: Request

    @inlinable
    init(_ request: Request) {
        self.request = request
    }

    /// The method, without building a string for the common ones.
    @usableFromInline
    var method: HTTPRequest.Method {
        switch request.method {
        case .GET: .get
        case .HEAD: .head
        case .POST: .post
        case .PUT: .put
        case .DELETE: .delete
        case .PATCH: .patch
        case .OPTIONS: .options
        default: HTTPRequest.Method(request.method.rawValue) ?? .post
        }
    }

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
    var sessionCredentials: SessionCredentials {
        var authorization: String? = nil
        var cookies: [String] = []
        for (name, value) in request.headers {
            if VaporFlowRequest.name(name, equals: "cookie") {
                cookies.append(value)
            } else if VaporFlowRequest.name(name, equals: "authorization") {
                // Several fields read as one, joined as `HTTPFields` joins them.
                authorization = authorization.map { $0 + ", " + value } ?? value
            }
        }
        return SessionCredentials(authorization: authorization, cookies: cookies)
    }

    /// Whether a header name equals a lowercase one, ignoring ASCII case.
    static func name(_ name: String, equals lowercased: String) -> Bool {
        guard name.utf8.count == lowercased.utf8.count else { return false }
        var index = name.utf8.startIndex
        for expected in lowercased.utf8 {
            let byte = name.utf8[index]
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            if folded != expected { return false }
            name.utf8.formIndex(after: &index)
        }
        return true
    }
}
