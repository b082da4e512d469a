import CoreMetrics
import Crypto
import HTTPTypes
import Prometheus
import Sesame

/// The demo's `GET /metrics`: everything Sesame reports (see `SesameMetrics`) in Prometheus's text format, from a
/// swift-prometheus registry that the server executables install as the process's metrics backend.
///
/// In development anyone on the demo's address may read it; in production only a scraper that sends
/// `Authorization: Bearer` with `SESAME_METRICS_TOKEN` (without that variable the route is not there).
public struct DemoMetrics: Sendable {
    /// The registry the process's metrics go to.
    public let registry: PrometheusCollectorRegistry
    /// The bearer token a production scraper must send; `nil` leaves `/metrics` open in development and closed in
    /// production.
    public let token: String?

    /// The process's registry, installed as swift-metrics' backend the first time it is read (once per process:
    /// swift-metrics takes one bootstrap).
    public static let installed: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Store calls take microseconds to milliseconds: finer buckets than the default 5 ms to 10 s.
        factory.durationHistogramBuckets[SesameMetrics.Name.storeOperationDuration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(2.5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Creates the route's state.
    public init(registry: PrometheusCollectorRegistry, token: String? = nil) {
        self.registry = registry
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The answer to `GET /metrics`.
    ///
    /// - Parameters:
    ///   - request: The request (its `Authorization` is checked in production).
    ///   - isDevelopment: Whether the demo runs in development mode.
    /// - Returns: The metrics, 401 for a production request without the token, or 404 where the route is off.
    public func response(to request: HTTPRequest, isDevelopment: Bool) -> AuthResponse {
        if !isDevelopment || token != nil {
            guard let token else { return AuthResponse(HTTPResponse(status: .notFound)) }
            let presented = request.headerFields[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            // Digests compare in constant time (swift-crypto), and hashing first hides the token's length too.
            guard SHA256.hash(data: Array(presented.utf8)) == SHA256.hash(data: Array(token.utf8)) else {
                var refused = AuthResponse(head: HTTPResponse(status: .unauthorized))
                refused.head.headerFields[.wwwAuthenticate] = "Bearer"
                return refused
            }
        }
        var response = AuthResponse(head: HTTPResponse(status: .ok), body: registry.emitToBuffer())
        response.head.headerFields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        response.head.headerFields[.cacheControl] = "no-store"
        return response
    }
}
