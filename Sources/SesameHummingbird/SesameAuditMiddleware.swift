import Hummingbird
import Sesame

/// Runs the routes behind it in an `AuditRequest`, so that the security events their handlers cause (a password
/// changed, a passkey added, a session ended) name the client's address and user agent.
///
/// ```swift
/// let account = router.group("account")
///     .add(middleware: SesameSessionMiddleware(sessions: sessions))
///     .add(middleware: SesameAuditMiddleware(trustedProxies: proxies))
/// ```
public struct SesameAuditMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The proxies whose forwarding fields name the client (default: none, the socket's peer is the client).
    public let trustedProxies: TrustedProxies

    /// Creates the middleware.
    ///
    /// - Parameter trustedProxies: The proxies whose `X-Forwarded-For` (or `Forwarded`) is believed.
    public init(trustedProxies: TrustedProxies = .none) {
        self.trustedProxies = trustedProxies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let peer = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
        return try await AuditRequest(request.head, peer: peer, trustedProxies: trustedProxies).run { try await next(request, context) }
    }
}
