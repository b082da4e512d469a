import HTTPTypes
import NIOCore
import NIOHTTP1
import Sesame
import Vapor

extension RoutesBuilder {
    /// Serves an `AuthHandler`'s routes (`{prefix}`, `{prefix}/**`) on this route group.
    ///
    /// The handler's prefix comes from its configuration (default `/auth`), so add it to the root group.
    /// Request bodies are collected up to `AuthConfiguration.maximumBodySize` (a larger one is `413`).
    ///
    /// - Parameter handler: The handler.
    public func addAuthHandler(_ handler: AuthHandler) {
        let prefix = handler.configuration.prefix.split(separator: "/").map { PathComponent(stringLiteral: String($0)) }
        let maximum = ByteCount(value: handler.configuration.maximumBodySize)
        for method in [HTTPMethod.GET, .HEAD, .POST] {
            for path in [prefix, prefix + [.catchall]] {
                on(method, path, body: method == .POST ? .collect(maxSize: maximum) : .stream) { request async throws -> Response in
                    // Vapor enforces the limit while collecting; a body handed over whole is checked here.
                    if let size = request.body.data?.readableBytes, size > handler.configuration.maximumBodySize {
                        return Response(AuthError.payloadTooLarge.jsonResponse)
                    }
                    return Response(await handler.handle(AuthRequest(request)))
                }
            }
        }
    }
}

extension AuthRequest {
    /// Builds Sesame's request from Vapor's (the body must have been collected).
    public init(_ request: Request) {
        // The socket's address: proxies are trusted only through `AuthConfiguration.trustedProxies`.
        self.init(method: request.method.rawValue, path: request.url.string, fields: request.headers,
                  body: request.body.data.map { Array($0.readableBytesView) } ?? [], clientAddress: request.remoteAddress?.ipAddress)
    }
}

extension Response {
    /// Builds Vapor's response from Sesame's (each `Set-Cookie` kept separate).
    public convenience init(_ response: AuthResponse) {
        self.init(
            status: HTTPResponseStatus(statusCode: response.head.status.code, reasonPhrase: response.head.status.reasonPhrase),
            headers: HTTPHeaders(response.head.headerFields.map { ($0.name.rawName, $0.value) }),
            body: response.body.isEmpty ? .empty : .init(buffer: ByteBuffer(bytes: response.body)))
    }
}
