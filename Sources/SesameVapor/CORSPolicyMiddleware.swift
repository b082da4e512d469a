import HTTPTypes
import Sesame
import Vapor

/// Applies a Sesame `CORSPolicy` on Vapor: answers preflights and adds the CORS fields for allowed origins only
/// (with credentials, never `*`).
///
/// Preflights are `OPTIONS` requests, which reach a route group's middleware only for routes registered for
/// `OPTIONS`; add it to the application instead, before the error middleware, so that every preflight reaches it
/// and error responses carry the fields too: `app.middleware.use(CORSPolicyMiddleware(policy), at: .beginning)`.
public struct CORSPolicyMiddleware: Middleware {
    /// The policy.
    public let policy: CORSPolicy

    /// Creates the middleware.
    ///
    /// - Parameter policy: The allow-list and preflight settings.
    public init(_ policy: CORSPolicy) {
        self.policy = policy
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let head = VaporFlowRequest(request)
        if let preflight = policy.preflightResponse(for: head) {
            return request.eventLoop.makeSucceededFuture(Response(AuthResponse(preflight)))
        }
        let fields = policy.responseFields(for: head)
        return next.respond(to: request).map { $0.applying(.add(fields)) }
    }
}
