import Hummingbird
import Sesame

/// Lets a request through only with a session (of a given kind): the guard for protected routes.
///
/// Without one, browser navigations are redirected to the sign-in URL and API requests get `401` JSON; see
/// `SessionRequirement` for the rules. Place it after ``SessionMiddleware``.
public struct RequireSessionMiddleware<Context: SessionRequestContext>: RouterMiddleware {
    /// The requirement.
    public let requirement: SessionRequirement<Context.Subject>

    /// Creates the guard.
    ///
    /// - Parameter requirement: The sign-in URL and which sessions qualify.
    public init(_ requirement: SessionRequirement<Context.Subject> = SessionRequirement()) {
        self.requirement = requirement
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The context's identity settles the common case; the task-local resolution is only needed to tell
        // "no session" from "the session store is down" and to clear a rejected cookie.
        let resolution = context.identity.map { SessionResolution(session: $0, failure: nil, responseFields: []) }
            ?? SessionResolution<Context.Subject>.current
            ?? SessionResolution(session: nil, failure: nil, responseFields: [])
        if let refusal = requirement.refusal(for: request.head, resolution: resolution) {
            return Response(refusal)
        }
        return try await next(request, context)
    }
}
