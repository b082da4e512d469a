import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Tracing

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
    /// Where each request's client span goes, its trace context injected into the request (W3C `traceparent` with
    /// an OpenTelemetry tracer); `nil` for none.
    public let tracer: (any Tracer)?

    /// A client that follows no redirects, with a 5 s connect timeout.
    ///
    /// - Parameters:
    ///   - timeout: Time allowed for a whole request.
    ///   - maximumResponseSize: The largest response body accepted.
    ///   - tracer: The tracer (default: the one `InstrumentationSystem.bootstrap` installed, read now; none without
    ///     one). Spans carry the method, scheme, host, port, path and status, never the query or a header.
    public init(timeout: TimeAmount = .seconds(10), maximumResponseSize: Int = 1 << 20, tracer: (any Tracer)? = InstrumentationSystem.tracer) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: timeout))
        configuration.decompression = .disabled
        // Sesame makes the span itself: AsyncHTTPClient's own would record the URL with its query.
        configuration.tracing.tracer = nil
        self.tracer = tracer is NoOpTracer ? nil : tracer
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.timeout = timeout
        self.maximumResponseSize = maximumResponseSize
    }

    /// The process-wide client with the default settings.
    public static let shared = ProviderHTTPClient()

    private init(client: HTTPClient, timeout: TimeAmount, maximumResponseSize: Int, tracer: (any Tracer)?) {
        self.client = client
        self.timeout = timeout
        self.maximumResponseSize = maximumResponseSize
        self.tracer = tracer is NoOpTracer ? nil : tracer
    }

    /// This client, on the same connections, with another tracer (or none).
    ///
    /// - Parameter tracer: Where the requests' spans go.
    /// - Returns: The client.
    public func traced(by tracer: (any Tracer)?) -> ProviderHTTPClient {
        ProviderHTTPClient(client: client, timeout: timeout, maximumResponseSize: maximumResponseSize, tracer: tracer)
    }

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
        guard let tracer else { return try await perform(request) }
        return try await tracer.withSpan("HTTP \(method.rawValue)", ofKind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            if let parsed = URLComponents(string: url) {
                span.attributes["url.scheme"] = parsed.scheme
                span.attributes["server.address"] = parsed.host
                span.attributes["server.port"] = parsed.port
                span.attributes["url.path"] = parsed.path
            }
            tracer.inject(span.context, into: &request.headers, using: HeaderInjector())
            let response = try await perform(request)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    private func perform(_ request: HTTPClientRequest) async throws -> Response {
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

/// Writes trace context into a request's header fields.
private struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
