import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

/// How providers talk to identity providers: token, user-info, discovery and JWKS requests.
///
/// The default, ``ProviderHTTPClient/shared``, is AsyncHTTPClient with connect and read timeouts, redirects
/// never followed (a redirect from a token or JWKS endpoint is an error, not a hop to wherever it points), and a
/// cap on response size.
public struct ProviderHTTPClient: Sendable {
    /// A response: status, header fields and the (capped) body.
    public struct Response: Sendable {
        /// The status.
        public var status: HTTPResponse.Status
        /// The header fields.
        public var headerFields: HTTPFields
        /// The body, at most the client's cap.
        public var body: [UInt8]
    }

    /// Why a request to an identity provider failed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What failed (no secrets).
        public let description: String
    }

    private let client: HTTPClient
    /// Time allowed for a whole request (default 10 s).
    public let timeout: TimeAmount
    /// The largest response body accepted (default 1 MiB).
    public let maximumResponseSize: Int

    /// A client that follows no redirects, with a 5 s connect timeout.
    ///
    /// - Parameters:
    ///   - timeout: Time allowed for a whole request.
    ///   - maximumResponseSize: The largest response body accepted.
    public init(timeout: TimeAmount = .seconds(10), maximumResponseSize: Int = 1 << 20) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: timeout))
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.timeout = timeout
        self.maximumResponseSize = maximumResponseSize
    }

    /// The process-wide client with the default settings.
    public static let shared = ProviderHTTPClient()

    /// Sends a request.
    ///
    /// - Parameters:
    ///   - method: The method.
    ///   - url: The absolute URL.
    ///   - headers: Request header fields.
    ///   - body: The request body, if any.
    /// - Returns: The response; any status, including 3xx, is returned rather than followed.
    /// - Throws: ``Failure`` for connection errors, timeouts and oversized responses.
    public func send(_ method: HTTPRequest.Method, _ url: String, headers: HTTPFields = [:], body: [UInt8]? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: timeout)
            if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maximumResponseSize {
                throw Failure(description: "the response is larger than \(maximumResponseSize) bytes")
            }
            let buffer = try await response.body.collect(upTo: maximumResponseSize)
            var fields = HTTPFields()
            for header in response.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            return Response(status: HTTPResponse.Status(code: Int(response.status.code)), headerFields: fields, body: Array(buffer.readableBytesView))
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "request failed: \(String(describing: Swift.type(of: error)))")
        }
    }
}
