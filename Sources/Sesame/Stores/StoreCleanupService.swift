import Logging
import ServiceLifecycle

/// Deletes expired records from stores periodically: a swift-service-lifecycle `Service`.
///
/// ```swift
/// let cleanup = StoreCleanupService(stores: [sqliteStorage], interval: .seconds(300))
/// let services = ServiceGroup(services: [app, cleanup], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await services.run()
/// ```
///
/// It cleans at once, then after every ``interval``. On graceful shutdown (or cancellation) it stops: a cleanup in
/// progress finishes (its deletes are each complete), the wait for the next one ends at once. A store that fails
/// (its server down) is logged and tried again at the next interval; the others are cleaned regardless.
public struct StoreCleanupService: Service {
    /// The stores to clean.
    public let stores: [any ExpiringStore]
    /// The pause between two cleanups.
    public let interval: Duration
    private let logger: Logger

    /// Creates a cleanup service.
    ///
    /// - Parameters:
    ///   - stores: The stores whose expired records are deleted.
    ///   - interval: The pause between two cleanups (default 5 minutes).
    ///   - logger: Where the service reports what it removed (debug) and failures (warning).
    public init(stores: [any ExpiringStore], interval: Duration = .seconds(300), logger: Logger = Logger(label: "sesame.cleanup")) {
        precondition(interval > .zero, "the interval must be positive")
        self.stores = stores
        self.interval = interval
        self.logger = logger
    }

    /// Cleans every store once.
    ///
    /// - Returns: How many records were deleted in total.
    /// - Throws: The first failing store's error, once every store was tried.
    @discardableResult
    public func cleanOnce() async throws -> Int {
        var total = 0
        var firstError: (any Error)?
        for store in stores {
            do {
                total += try await store.deleteExpiredRecords()
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return total
    }

    /// Cleans now and after every ``interval`` until graceful shutdown or cancellation.
    public func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let removed = try await cleanOnce()
                logger.debug("Deleted expired records", metadata: ["count": "\(removed)"])
            } catch {
                logger.warning("Could not delete expired records", metadata: ["error": .string(String(describing: error))])
            }
            do {
                let interval = interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
