import HTTPTypes
import Sesame
import Vapor

/// Gives Vapor's own refusals Sesame's shape: an unmatched route, a body over the limit, an `Abort` or a body that
/// does not decode becomes `{"error": CODE, "error_description", "message"}` with its status (a small page for a
/// browser navigation), so that every refusal an app sends carries one of the stable codes. An `AuthError` thrown
/// by a handler answers as itself. Other errors pass on to Vapor's `ErrorMiddleware`.
///
/// Add it after Vapor's error middleware: `app.middleware.use(SesameErrorMiddleware())`.
public struct SesameErrorMiddleware: AsyncMiddleware {
    /// Creates the middleware.
    public init() {}

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as AuthError {
            return Response(error.response(to: AuthRequest(request).head))
        } catch let error as any AbortError {
            return Response(AuthError.forStatus(HTTPResponse.Status(code: Int(error.status.code))).response(to: AuthRequest(request).head))
        } catch is DecodingError {
            return Response(AuthError.invalidRequest.response(to: AuthRequest(request).head))
        }
    }
}
