import Hummingbird
import Sesame

/// Resolves the request's session from its `Bearer` token or session cookie.
///
/// The session becomes `context.identity` and, for everything below the middleware, the task-local
/// `Session<Subject>.current`. A rejected session cookie is cleared on the response. Routes that need a
/// session add ``RequireSessionMiddleware`` after this one.
public struct SessionMiddleware<Context: SessionRequestContext>: RouterMiddleware {
    /// The session tokens to verify with.
    public let sessions: SessionTokens<Context.Subject>

    /// Creates the middleware.
    ///
    /// - Parameter sessions: The session tokens to verify with.
    public init(sessions: SessionTokens<Context.Subject>) {
        self.sessions = sessions
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let resolution = await sessions.resolve(request.head)
        var context = context
        context.identity = resolution.session
        var response = try await resolution.withCurrent { try await next(request, context) }
        for field in resolution.responseFields { response.headers.append(field) }
        return response
    }
}
