import Hummingbird
import Sesame

/// Gives Hummingbird's own refusals Sesame's shape: an unmatched route, a body over the limit or any other
/// `HTTPResponseError` becomes `{"error": CODE, "error_description", "message"}` with its status (a small page for a
/// browser navigation), so that every refusal an app sends carries one of the stable codes. An `AuthError` thrown
/// by a handler answers as itself. Other errors pass on to Hummingbird.
///
/// Add it to the router before the routes: `router.add(middleware: SesameErrorMiddleware())`.
public struct SesameErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AuthError {
            return Response(error.response(to: request.head))
        } catch let error as any HTTPResponseError {
            return Response(AuthError.forStatus(error.status).response(to: request.head))
        }
    }
}
