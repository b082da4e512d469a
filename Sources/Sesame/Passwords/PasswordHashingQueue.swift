import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where password hashes are computed: threads of its own (never an event loop or the concurrency pool that serves
/// requests), at most `maximumConcurrent` at once, with at most `maximumWaiting` more queued. A hash beyond that is
/// refused at once with ``AuthError/serverBusy`` (503 with `Retry-After`), so a flood of sign-ins costs the server
/// neither memory (each running scrypt hash takes its 128 MiB) nor its request handling. Its threads run at a lower
/// scheduling priority (nice 10 by default): when requests and hashes compete for the processors, requests win,
/// and a flood of sign-ins slows sign-ins (then is refused) instead of every route.
public final class PasswordHashingQueue: Sendable {
    /// The most hashes computed at once.
    public let maximumConcurrent: Int
    /// The most hashes waiting for a thread.
    public let maximumWaiting: Int
    /// The nice value the hashing threads run at (0 to 19; higher yields more to other threads).
    public let niceness: Int32
    private let pool: NIOThreadPool
    private let admitted = Atomic(0)
    private let finished = Atomic(0)
    private let metrics: SesameMetrics

    /// The queue every ``ScryptPasswordHasher`` uses unless given another: one thread per processor, reporting to
    /// the metrics backend installed when it is first used.
    public static let shared = PasswordHashingQueue()

    /// Creates a queue and starts its threads.
    ///
    /// - Parameters:
    ///   - maximumConcurrent: Threads, so hashes at once (default: the number of processors).
    ///   - maximumWaiting: Hashes that may wait for a thread (default: 4 per thread, about a second of work at
    ///     OWASP's scrypt cost: a longer queue only serves clients that gave up waiting).
    ///   - niceness: The hashing threads' nice value (default 10; 0 runs them at the same priority as requests).
    ///   - metrics: Where the queue's depth (hashes running or waiting) is reported as
    ///     `sesame_password_hash_queue_depth` (default: the metrics backend `MetricsSystem.bootstrap` installed).
    public init(maximumConcurrent: Int = System.coreCount, maximumWaiting: Int? = nil, niceness: Int32 = 10, metrics: SesameMetrics = SesameMetrics()) {
        self.metrics = metrics
        self.maximumConcurrent = max(1, maximumConcurrent)
        self.niceness = min(19, max(0, niceness))
        self.maximumWaiting = max(0, maximumWaiting ?? 4 * self.maximumConcurrent)
        pool = NIOThreadPool(numberOfThreads: self.maximumConcurrent)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// Hashes running or waiting now.
    public var load: Int { admitted.load(ordering: .relaxed) }
    /// Hashes computed since the queue started (refused ones not counted).
    public var completed: Int { finished.load(ordering: .relaxed) }

    /// Runs `work` on one of the queue's threads.
    ///
    /// - Parameter work: The hashing.
    /// - Returns: What `work` returns.
    /// - Throws: ``AuthError/serverBusy`` when the queue is full (nothing runs), or what `work` throws.
    func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        let limit = maximumConcurrent + maximumWaiting
        if admitted.add(1, ordering: .acquiringAndReleasing).newValue > limit {
            admitted.subtract(1, ordering: .relaxed)
            throw AuthError.serverBusy
        }
        metrics.passwordHashAdmitted()
        defer {
            admitted.subtract(1, ordering: .relaxed)
            metrics.passwordHashLeft()
        }
        let niceness = niceness
        let value = try await pool.runIfActive {
            // Linux keeps a nice value per thread; `who = 0` is the calling thread. Setting it is idempotent and
            // costs one system call, nothing beside a hash.
            #if os(Linux)
            if getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) != niceness {
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
            }
            #endif
            return try work()
        }
        finished.add(1, ordering: .relaxed)
        return value
    }
}
