import CoreMetrics
import HTTPTypes
import Prometheus
import Sesame
import SesameDemo
import Testing

/// The demo's `GET /metrics`: open in development, behind a bearer token in production (absent without one), and in
/// Prometheus's text format with Sesame's metrics.
@Suite struct DemoMetricsTests {
    static func request(authorization: String? = nil) -> HTTPRequest {
        var head = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: "/metrics")
        if let authorization { head.headerFields[.authorization] = authorization }
        return head
    }

    /// A registry with one of Sesame's counters in it (made through swift-prometheus's factory, no global bootstrap).
    static func registry() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let metrics = SesameMetrics(factory: PrometheusMetricsFactory(registry: registry))
        #expect(metrics.isEnabled)
        Counter(label: SesameMetrics.Name.refusals, dimensions: [("code", "invalid_token")], factory: metrics.factory).increment()
        return registry
    }

    @Test func developmentServesTheTextFormat() {
        let response = DemoMetrics(registry: Self.registry()).response(to: Self.request(), isDevelopment: true)
        #expect(response.head.status == .ok)
        #expect(response.head.headerFields[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(response.head.headerFields[.cacheControl] == "no-store")
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains("# TYPE sesame_refusals_total counter") && text.contains("sesame_refusals_total{code=\"invalid_token\"} 1"))
    }

    /// Production without SESAME_METRICS_TOKEN: no route. With it: only the exact bearer token reads the metrics.
    @Test func productionNeedsTheToken() {
        let registry = Self.registry()
        #expect(DemoMetrics(registry: registry).response(to: Self.request(authorization: "Bearer anything"), isDevelopment: false).head.status == .notFound)
        #expect(DemoMetrics(registry: registry, token: "").response(to: Self.request(), isDevelopment: false).head.status == .notFound)
        let metrics = DemoMetrics(registry: registry, token: "s3cret-scrape-token")
        for refused in [nil, "Bearer", "Bearer ", "Bearer s3cret-scrape-toke", "Bearer s3cret-scrape-token2", "Basic s3cret-scrape-token", "bearer s3cret-scrape-token"] {
            let response = metrics.response(to: Self.request(authorization: refused), isDevelopment: false)
            #expect(response.head.status == .unauthorized, "\(refused ?? "no header")")
            #expect(response.head.headerFields[.wwwAuthenticate] == "Bearer" && response.body.isEmpty)
        }
        #expect(metrics.response(to: Self.request(authorization: "Bearer s3cret-scrape-token"), isDevelopment: false).head.status == .ok)
        // A token set in development is required there too.
        #expect(metrics.response(to: Self.request(), isDevelopment: true).head.status == .unauthorized)
    }
}
