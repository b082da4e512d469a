import Logging
import ServiceLifecycle
import Sesame

/// Deletes expired rows from PostgreSQL stores periodically, for as long as ``run()`` runs.
///
/// Run it in a long-lived task next to the client's `run()`, and cancel the task to stop it:
///
/// ```swift
/// let cleanup = PostgresCleanupService(stores: [sessions, replay, limiter, revocation], interval: .seconds(300))
/// group.addTask { await cleanup.run() }
/// ```
///
/// It is a swift-service-lifecycle `Service` (a `StoreCleanupService` with a batch size), so it can run
/// in the app's `ServiceGroup` and stop on graceful shutdown. Failures (for example while the server is down) are
/// logged and retried at the next interval.
public struct PostgresCleanupService: Service {
    /// The stores to clean.
    public let stores: [any PostgresExpiringStore]
    /// The pause between two cleanups.
    public let interval: Duration
    /// The most rows one delete statement removes.
    public let batchSize: Int
    private let logger: Logger

    /// Creates a cleanup service.
    ///
    /// - Parameters:
    ///   - stores: The stores whose expired rows are deleted.
    ///   - interval: The pause between two cleanups (default 5 minutes).
    ///   - batchSize: The most rows one delete statement removes (default 10,000).
    ///   - logger: Where the service reports what it removed (debug) and failures (warning).
    public init(
        stores: [any PostgresExpiringStore], interval: Duration = .seconds(300), batchSize: Int = 10_000,
        logger: Logger = Logger(label: "sesame.postgres.cleanup")
    ) {
        precondition(batchSize > 0, "the batch size must be positive")
        self.stores = stores
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Cleans every store once.
    ///
    /// - Returns: How many rows were deleted in total.
    /// - Throws: The first store's error; the stores after it are still cleaned.
    @discardableResult
    public func cleanOnce() async throws -> Int {
        try await service.cleanOnce()
    }

    /// Cleans every store now and then after every ``interval``, until graceful shutdown or cancellation.
    public func run() async {
        await service.run()
    }

    /// The general service, with this one's batch size.
    private var service: StoreCleanupService {
        StoreCleanupService(stores: stores.map { Batched(store: $0, batchSize: batchSize) }, interval: interval, logger: logger)
    }

    private struct Batched: ExpiringStore {
        let store: any PostgresExpiringStore
        let batchSize: Int
        func deleteExpiredRecords() async throws -> Int { try await store.deleteExpired(batchSize: batchSize) }
    }
}
