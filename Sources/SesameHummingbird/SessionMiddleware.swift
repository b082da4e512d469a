import Hummingbird
import HummingbirdAuth
import Sesame

/// Resolves the request's session from its `Bearer` token or session cookie, and optionally requires one.
///
/// The session becomes `context.identity` and, for everything below the middleware, the task-local
/// `Session<Subject>.current`. A rejected session cookie is cleared on the response. With a requirement,
/// requests without a (qualifying) session are refused here: browser navigations are redirected to the
/// sign-in URL, API requests get `401` JSON (see `SessionRequirement`). For routes that mix public and
/// protected pages, resolve once without a requirement and add ``RequireSessionMiddleware`` to the
/// protected group.
public struct SessionMiddleware<Context: SessionRequestContext>: RouterMiddleware {
    /// The session tokens to verify with.
    public let sessions: SessionTokens<Context.Subject>
    /// What the routes below require, if anything.
    public let requirement: SessionRequirement<Context.Subject>?

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sessions: The session tokens to verify with.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    public init(sessions: SessionTokens<Context.Subject>, requirement: SessionRequirement<Context.Subject>? = nil) {
        self.sessions = sessions
        self.requirement = requirement
    }

    @inlinable
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let resolution = await sessions.resolve(request.head)
        if let requirement, let refusal = requirement.refusal(for: request.head, resolution: resolution) {
            return Response(refusal)
        }
        var context = context
        context.identity = resolution.session
        var response = try await resolution.withCurrent { try await next(request, context) }
        for field in resolution.responseFields { response.headers.append(field) }
        return response
    }
}
