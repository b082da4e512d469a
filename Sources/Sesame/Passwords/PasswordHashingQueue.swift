import NIOCore
import NIOPosix
import Synchronization

/// Where password hashes are computed: threads of its own (never an event loop or the concurrency pool that serves
/// requests), at most `maximumConcurrent` at once, with at most `maximumWaiting` more queued. A hash beyond that is
/// refused at once with ``AuthError/serverBusy`` (503 with `Retry-After`), so a flood of sign-ins costs the server
/// neither memory (each running scrypt hash takes its 128 MiB) nor its request handling.
public final class PasswordHashingQueue: Sendable {
    /// The most hashes computed at once.
    public let maximumConcurrent: Int
    /// The most hashes waiting for a thread.
    public let maximumWaiting: Int
    private let pool: NIOThreadPool
    private let admitted = Atomic(0)
    private let finished = Atomic(0)

    /// The queue every ``ScryptPasswordHasher`` uses unless given another: one thread per processor.
    public static let shared = PasswordHashingQueue()

    /// Creates a queue and starts its threads.
    ///
    /// - Parameters:
    ///   - maximumConcurrent: Threads, so hashes at once (default: the number of processors).
    ///   - maximumWaiting: Hashes that may wait for a thread (default: 16 per thread).
    public init(maximumConcurrent: Int = System.coreCount, maximumWaiting: Int? = nil) {
        self.maximumConcurrent = max(1, maximumConcurrent)
        self.maximumWaiting = max(0, maximumWaiting ?? 16 * self.maximumConcurrent)
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
        defer { admitted.subtract(1, ordering: .relaxed) }
        let value = try await pool.runIfActive(work)
        finished.add(1, ordering: .relaxed)
        return value
    }
}
