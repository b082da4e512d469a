import Hummingbird
import NIOCore
import Sesame

extension RouterMethods {
    /// Mounts an `AuthHandler` at its configured prefix (default `/auth`).
    ///
    /// Every method and path under the prefix goes to the handler, with the body collected up to the
    /// configured maximum (a larger body is refused with `413`).
    ///
    /// - Parameter handler: The handler.
    /// - Returns: The router, for chaining.
    @discardableResult
    public func addAuthHandler(_ handler: AuthHandler) -> Self {
        let prefix = handler.configuration.prefix
        let responder: @Sendable (Request, Context) async throws -> Response = { request, context in
            await Response(handler.handle(try AuthRequest(request, context: context, maximumBodySize: handler.configuration.maximumBodySize)))
        }
        for method in [HTTPRequest.Method.get, .post, .head] {
            on(RouterPath(prefix.isEmpty ? "/" : prefix), method: method, use: responder)
            on(RouterPath(prefix + "/**"), method: method, use: responder)
        }
        return self
    }
}

extension AuthRequest {
    /// Builds Sesame's request from Hummingbird's, collecting the body.
    ///
    /// - Throws: `HTTPError(.contentTooLarge)` when the body exceeds `maximumBodySize`.
    public init(_ request: Request, context: some RequestContext, maximumBodySize: Int) async throws {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBodySize)
        } catch {
            throw HTTPError(.contentTooLarge, message: "the request body is too large")
        }
        let address = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
        self.init(head: request.head, body: Array(buffer.readableBytesView), clientAddress: address)
    }
}

extension Response {
    /// Builds Hummingbird's response from Sesame's.
    public init(_ response: AuthResponse) {
        self.init(
            status: response.head.status,
            headers: response.head.headerFields,
            body: response.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }
}

/// An `AuthError` thrown from a route handler (for example a stored session's `data.set` while the store is down) answers
/// with its status and `{"error", "error_description"}`, not a 500.
extension AuthError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(jsonResponse)
    }
}
