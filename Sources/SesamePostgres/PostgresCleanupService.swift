import Logging

/// Deletes expired rows from PostgreSQL stores periodically, for as long as ``run()`` runs.
///
/// Run it in a long-lived task next to the client's `run()`, and cancel the task to stop it:
///
/// ```swift
/// let cleanup = PostgresCleanupService(stores: [sessions, replay, limiter, revocation], interval: .seconds(300))
/// group.addTask { await cleanup.run() }
/// ```
///
/// Its `run()` has the shape of a swift-service-lifecycle `Service`, so an app using service lifecycle can
/// conform it with an empty extension in its own module. Failures (for example while the server is down) are
/// logged and retried at the next interval.
public struct PostgresCleanupService: Sendable {
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
        var total = 0
        var firstError: (any Error)?
        for store in stores {
            do {
                total += try await store.deleteExpired(batchSize: batchSize)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return total
    }

    /// Cleans every store now and then after every ``interval``, until the calling task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                let removed = try await cleanOnce()
                logger.debug("deleted expired rows", metadata: ["count": "\(removed)"])
            } catch is CancellationError {
                return
            } catch {
                logger.warning("could not delete expired rows", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
