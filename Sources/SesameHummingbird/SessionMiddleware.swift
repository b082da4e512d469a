import Hummingbird
import HTTPTypes
import HummingbirdAuth
import Sesame

/// Resolves the request's session, optionally requires one, and saves what the handler changed.
///
/// Works with either session strategy: ``SessionTokens`` (a `Bearer` token or the session cookie) or
/// ``StoredSessions`` (a signed cookie naming a store record). The session becomes `context.identity` and, for
/// everything below the middleware, the task-local `Session<Subject>.current` (and, with a store,
/// `SessionData<Data>.current`). A rejected session cookie is cleared on the response. With a requirement,
/// requests without a (qualifying) session are refused here: browser navigations are redirected to the
/// sign-in URL, API requests get `401` JSON (see `SessionRequirement`), and `503` when the store is down.
/// For routes that mix public and protected pages, resolve once without a requirement and add
/// ``RequireSessionMiddleware`` to the protected group.
public struct SessionMiddleware<Context: SessionRequestContext, Strategy: SessionStrategy>: RouterMiddleware where Strategy.Subject == Context.Subject {
    /// The session strategy.
    public let sessions: Strategy
    /// What the routes below require, if anything.
    public let requirement: SessionRequirement<Context.Subject>?

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - sessions: The session strategy: `SessionTokens` or `StoredSessions`.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    public init(sessions: Strategy, requirement: SessionRequirement<Context.Subject>? = nil) {
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
        let saved: [HTTPField]
        do throws(AuthError) {
            saved = try await sessions.commit(resolution)
        } catch {
            // The handler's changes could not be saved: say so rather than pretend they were.
            return Response(error.jsonResponse)
        }
        for field in resolution.responseFields { response.headers.append(field) }
        for field in saved { response.headers.append(field) }
        return response
    }
}
