import HTTPTypes
import Sesame
import Vapor

/// Runs the routes behind it in an `AuditRequest`, so that the security events their handlers cause (a password
/// changed, a passkey added, a session ended) name the client's address and user agent.
///
/// ```swift
/// let account = app.grouped(SesameSessionMiddleware(sessions: sessions), SesameAuditMiddleware(trustedProxies: proxies))
/// ```
public struct SesameAuditMiddleware: AsyncMiddleware {
    /// The proxies whose forwarding fields name the client (default: none, the socket's peer is the client).
    public let trustedProxies: TrustedProxies

    /// Creates the middleware.
    ///
    /// - Parameter trustedProxies: The proxies whose `X-Forwarded-For` (or `Forwarded`) is believed.
    public init(trustedProxies: TrustedProxies = .none) {
        self.trustedProxies = trustedProxies
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        var head = HTTPRequest(method: .get, scheme: nil, authority: nil, path: nil)
        for header in request.headers {
            if let name = HTTPField.Name(header.name) { head.headerFields.append(HTTPField(name: name, value: header.value)) }
        }
        return try await AuditRequest(head, peer: request.remoteAddress?.ipAddress, trustedProxies: trustedProxies).run {
            try await next.respond(to: request)
        }
    }
}
