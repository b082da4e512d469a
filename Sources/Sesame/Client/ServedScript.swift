import Crypto
import Foundation
import HTTPTypes

/// A script the handler serves from memory (the passkey ceremonies, the browser client): its bytes, a strong
/// validator, and the headers that keep browsers from sniffing it as anything else.
struct ServedScript: Sendable {
    /// The bytes served.
    let body: [UInt8]
    /// The `Content-Type`.
    let contentType: String
    /// A strong validator of the bytes.
    let etag: String

    /// Serves `source` as `contentType`.
    init(source: String, contentType: String) {
        body = Array(source.utf8)
        self.contentType = contentType
        etag = "\"" + SHA256.hash(data: body).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
    }

    /// The response: the bytes, cached for a short while, never sniffed; `304 Not Modified` for a request that
    /// holds the current validator.
    func response(to request: HTTPRequest) -> AuthResponse {
        let current = request.headerFields[.ifNoneMatch]?.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == etag } == true
        var response = AuthResponse(head: HTTPResponse(status: current ? .notModified : .ok), body: current ? [] : body)
        response.head.headerFields[.contentType] = contentType
        response.head.headerFields[.cacheControl] = "public, max-age=300"
        response.head.headerFields[.eTag] = etag
        response.head.headerFields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return response
    }
}
