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
        // The head only (the body may not be collected yet), translated as the auth routes translate it.
        let head = AuthRequest(method: request.method.rawValue, path: request.url.string, fields: request.headers).head
        return try await AuditRequest(head, peer: request.remoteAddress?.ipAddress, trustedProxies: trustedProxies).run {
            try await next.respond(to: request)
        }
    }
}
