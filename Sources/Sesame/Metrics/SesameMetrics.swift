import CoreMetrics
import Tracing

/// What Sesame reports through swift-metrics: sign-ins, refusals, the verified-token cache, rate limits, store
/// operations, the password-hash queue and refresh-token reuse.
///
/// Every metric's labels are fixed names Sesame chooses (a provider's mount name, a stable error code, a store's type
/// name, an operation): never an email address, a token, a user ID or a client address. The names and labels:
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `sesame_sign_ins_total` | counter | `provider`, `outcome` (`success`: the app's `onSuccess` answered; `failure`: the provider refused it: a wrong password, a refused callback or second factor) |
/// | `sesame_refusals_total` | counter | `code` (the stable error code) |
/// | `sesame_rate_limited_total` | counter | `route` (`index`, `action`, `signin`, `step`, `authorize`, `callback`, `native`, `other`) |
/// | `sesame_token_cache_total` | counter | `result` (`hit`, `miss`) |
/// | `sesame_store_operation_duration_seconds` | timer | `store`, `operation` |
/// | `sesame_store_failures_total` | counter | `store`, `operation` |
/// | `sesame_password_hash_queue_depth` | meter (a gauge that goes up and down) | none |
/// | `sesame_refresh_token_reuse_total` | counter | none |
///
/// Create one with the app's metrics backend (by default the one `MetricsSystem.bootstrap` installed) and pass it to
/// the configurations that take one; tests pass a `TestMetrics` from MetricsTestKit.
///
/// ```swift
/// MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
/// let metrics = SesameMetrics()
/// let configuration = AuthConfiguration(baseURL: "https://app.example", metrics: metrics)
/// ```
public struct SesameMetrics: Sendable {
    /// The backend the metrics are made by.
    public let factory: any MetricsFactory
    /// Whether anything is reported (``disabled`` reports nothing and costs nothing).
    public let isEnabled: Bool

    /// Counters and timers with labels only known when they are reported (a provider, an error code, a store),
    /// made once per thread shard rather than per report: making one takes the backend's lock.
    private let counters = ThreadShardedMemo<[String], Counter>(limitPerShard: 512)
    private let operations = ThreadShardedMemo<[String], StoreOperationMetrics>(limitPerShard: 128)
    let tokenCacheHits: Counter?
    let tokenCacheMisses: Counter?
    let refreshTokenReuse: Counter?
    let passwordHashQueueDepth: Meter?

    /// The metric names, for dashboards and tests.
    public enum Name {
        /// Completed and failed sign-ins, by `provider` and `outcome`.
        public static let signIns = "sesame_sign_ins_total"
        /// Requests refused, by stable error `code`.
        public static let refusals = "sesame_refusals_total"
        /// Requests refused by a rate limit, by `route`.
        public static let rateLimited = "sesame_rate_limited_total"
        /// Session-token verifications answered from the cache (`result=hit`) or checked in full (`result=miss`).
        public static let tokenCache = "sesame_token_cache_total"
        /// How long each store operation took, by `store` and `operation`.
        public static let storeOperationDuration = "sesame_store_operation_duration_seconds"
        /// Store operations that threw, by `store` and `operation`.
        public static let storeFailures = "sesame_store_failures_total"
        /// Password hashes running or waiting.
        public static let passwordHashQueueDepth = "sesame_password_hash_queue_depth"
        /// Refresh tokens presented again after their rotation (each one revokes its family).
        public static let refreshTokenReuse = "sesame_refresh_token_reuse_total"
    }

    /// Reports through `factory`.
    ///
    /// - Parameter factory: The metrics backend (default: the one `MetricsSystem.bootstrap` installed, read now;
    ///   with none installed, nothing is reported and nothing is timed).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.init(factory: factory, isEnabled: !(factory is NOOPMetricsHandler))
    }

    private init(factory: any MetricsFactory, isEnabled: Bool) {
        self.factory = factory
        self.isEnabled = isEnabled
        if isEnabled {
            tokenCacheHits = Counter(label: Name.tokenCache, dimensions: [("result", "hit")], factory: factory)
            tokenCacheMisses = Counter(label: Name.tokenCache, dimensions: [("result", "miss")], factory: factory)
            refreshTokenReuse = Counter(label: Name.refreshTokenReuse, factory: factory)
            passwordHashQueueDepth = Meter(label: Name.passwordHashQueueDepth, factory: factory)
        } else {
            tokenCacheHits = nil
            tokenCacheMisses = nil
            refreshTokenReuse = nil
            passwordHashQueueDepth = nil
        }
    }

    /// Reports nothing.
    public static let disabled = SesameMetrics(factory: NOOPMetricsHandler.instance, isEnabled: false)

    // MARK: Reporting

    func signIn(provider: String, succeeded: Bool) {
        guard isEnabled else { return }
        counter(Name.signIns, ("provider", provider), ("outcome", succeeded ? "success" : "failure")).increment()
    }

    func refusal(code: String, route: @autoclosure () -> String?) {
        guard isEnabled else { return }
        counter(Name.refusals, ("code", code)).increment()
        if code == AuthError.rateLimited.code {
            counter(Name.rateLimited, ("route", route() ?? "other")).increment()
        }
    }

    func refreshTokenReused() {
        refreshTokenReuse?.increment()
    }

    func passwordHashAdmitted() {
        passwordHashQueueDepth?.increment()
    }

    func passwordHashLeft() {
        passwordHashQueueDepth?.decrement()
    }

    /// The timer and failure counter of one operation of one store (none when these metrics are disabled), and the
    /// tracer its spans go to.
    func storeOperation(store: String, operation: String, tracer: (any Tracer)?) -> StoreOperationMetrics {
        let dimensions = [("store", store), ("operation", operation)]
        return StoreOperationMetrics(
            store: store, operation: operation,
            duration: isEnabled ? CoreMetrics.Timer(label: Name.storeOperationDuration, dimensions: dimensions, factory: factory) : nil,
            failures: isEnabled ? Counter(label: Name.storeFailures, dimensions: dimensions, factory: factory) : nil,
            tracer: tracer)
    }

    /// Runs one call of a store that has no measured wrapper (a replay store's `consume`), timing it, counting it as
    /// a failure if it throws, in a span when there is a tracer.
    ///
    /// - Parameters:
    ///   - store: The store; its type name is the `store` label.
    ///   - operation: The `operation` label.
    ///   - tracer: Where the call's span goes, if anywhere.
    func measure<Value>(_ store: Any, _ operation: String, tracer: (any Tracer)?, _ body: () async throws -> Value) async throws -> Value {
        guard isEnabled || tracer != nil else { return try await body() }
        let name = String(describing: type(of: store))
        var measured = operations.value(for: [name, operation]) { storeOperation(store: name, operation: operation, tracer: nil) }
        measured.tracer = tracer
        return try await measured.measure(body)
    }

    private func counter(_ label: String, _ dimensions: (String, String)...) -> Counter {
        counters.value(for: [label] + dimensions.map(\.1)) {
            Counter(label: label, dimensions: dimensions, factory: factory)
        }
    }
}

/// The timer, failure counter and span of one store operation.
struct StoreOperationMetrics: Sendable {
    let store: String
    let operation: String
    let duration: CoreMetrics.Timer?
    let failures: Counter?
    var tracer: (any Tracer)?

    /// Runs the operation, timing it and counting it as a failure if it throws, in a `sesame.store.OPERATION` span
    /// (attributes: the store's type name and the operation; never a key or a value) when there is a tracer.
    func measure<Value>(_ body: () async throws -> Value) async throws -> Value {
        guard let tracer else { return try await timed(body) }
        return try await tracer.withSpan("sesame.store." + operation, ofKind: .client) { span in
            span.attributes["sesame.store"] = store
            span.attributes["db.operation.name"] = operation
            return try await timed(body)
        }
    }

    private func timed<Value>(_ body: () async throws -> Value) async throws -> Value {
        guard let duration, let failures else { return try await body() }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let value = try await body()
            duration.recordNanoseconds(Self.nanoseconds(clock.now - start))
            return value
        } catch {
            duration.recordNanoseconds(Self.nanoseconds(clock.now - start))
            failures.increment()
            throw error
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
