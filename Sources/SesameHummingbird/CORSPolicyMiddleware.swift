import Hummingbird
import Sesame

/// Applies a Sesame `CORSPolicy`: answers preflights and adds CORS fields for allowed origins only.
public struct CORSPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The policy.
    public let policy: CORSPolicy

    /// Creates the middleware.
    ///
    /// - Parameter policy: The allow-list and preflight settings.
    public init(_ policy: CORSPolicy) {
        self.policy = policy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let preflight = policy.preflightResponse(for: request.head) {
            return Response(status: preflight.status, headers: preflight.headerFields)
        }
        var response = try await next(request, context)
        for field in policy.responseFields(for: request.head) { response.headers.append(field) }
        return response
    }
}
