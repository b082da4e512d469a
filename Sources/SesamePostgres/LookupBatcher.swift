import NIOCore
import NIOPosix
import Synchronization

/// Coalesces concurrent lookups by key into shared queries, so that a busy server sends PostgreSQL one
/// `= ANY($1)` query for many lookups instead of one query each.
///
/// A lookup queues; when fewer than `maximumQueries` queries are in flight, it also starts one, in a task of
/// its own that takes everything queued by the time it runs (up to `maximumBatch` keys): the lookups ready to
/// run when it was started (typically the ones the previous query just answered) join it. The query's task
/// answers every lookup it took, then starts the next query when lookups queued meanwhile, or frees its slot.
/// So at low concurrency each lookup is one query, under load a query serves many, and an answer reaches its
/// lookups with no task in between.
///
/// Each lookup has a deadline, counted from when it was asked for (time spent queued behind a slow query counts):
/// a query's timer fires at its oldest lookup's deadline, and then every lookup it took fails with the store's
/// "unavailable" error and its slot goes to the next query; a batch whose oldest lookup is already out of time
/// fails without a query. The late query is left to finish on its own (PostgresNIO does not stop a query on the
/// wire), so a hung server never holds a lookup longer than the deadline.
final class LookupBatcher<Value: Sendable>: Sendable {
    /// Looks up the values of a batch of keys: the result holds an entry for each key that has one.
    typealias Fetch = @Sendable (_ keys: [String]) async throws -> [String: Value]

    private struct Waiter: Sendable {
        let key: String
        /// When the lookup must be answered by.
        let expiry: NIODeadline
        let continuation: CheckedContinuation<Value?, any Error>
    }

    private struct State {
        var queriesInFlight = 0
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())
    private let maximumQueries: Int
    private let maximumBatch: Int
    private let deadline: Duration
    private let fetch: Fetch
    private let now: @Sendable () -> NIODeadline

    /// Creates a batcher.
    ///
    /// - Parameters:
    ///   - maximumQueries: How many queries may run at once.
    ///   - maximumBatch: The most keys one query asks for.
    ///   - deadline: How long a lookup may wait, queued and in its query, before it fails.
    ///   - now: The clock the deadlines are counted on (tests move it).
    ///   - fetch: Runs one query.
    init(
        maximumQueries: Int, maximumBatch: Int = 128, deadline: Duration, now: @escaping @Sendable () -> NIODeadline = { .now() },
        fetch: @escaping Fetch
    ) {
        self.now = now
        self.maximumQueries = max(1, maximumQueries)
        self.maximumBatch = max(1, maximumBatch)
        self.deadline = deadline
        self.fetch = fetch
    }

    /// How many lookups are queued for the next query.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// The value for `key`, or `nil` when it has none.
    ///
    /// - Parameter key: The key.
    /// - Returns: The value, or `nil`.
    /// - Throws: What the query that served it threw, or `SessionStoreError.unavailable(_:)` when it passed
    ///   its deadline.
    func value(for key: String) async throws -> Value? {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { state in
                state.waiting.append(Waiter(key: key, expiry: now() + TimeAmount(deadline), continuation: continuation))
                guard state.queriesInFlight < maximumQueries else { return false }
                state.queriesInFlight += 1
                return true
            }
            if starts { startQuery() }
        }
    }

    /// Starts a query task (the caller holds a slot for it).
    private func startQuery() {
        Task { await runQuery() }
    }

    /// Runs one query for the lookups queued now and answers them; then hands the slot on.
    private func runQuery() async {
        let batch: [Waiter] = state.withLock { state in
            let count = min(maximumBatch, state.waiting.count)
            defer { state.waiting.removeFirst(count) }
            return Array(state.waiting.prefix(count))
        }
        guard !batch.isEmpty else { return handOver() }
        // The first of the query and the oldest lookup's deadline to settle answers the batch and hands the slot on.
        // (The queue is first in, first out: the batch's first lookup is its oldest.)
        let settled = Atomic(false)
        let timeout = deadline
        let expiry = batch[0].expiry
        if expiry <= now() {
            // Queued past its deadline behind a query that never answered: no new query for a store that is not
            // answering.
            let error = PostgresErrorClassifier.storeError(for: OperationDeadline.Exceeded(timeout: timeout))
            for waiter in batch { waiter.continuation.resume(throwing: error) }
            return handOver()
        }
        let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(deadline: expiry) {
            guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
            let error = PostgresErrorClassifier.storeError(for: OperationDeadline.Exceeded(timeout: timeout))
            for waiter in batch { waiter.continuation.resume(throwing: error) }
            self.handOver()
        }
        let result: Result<[String: Value], any Error>
        do {
            result = .success(try await fetch(Array(Set(batch.map(\.key)))))
        } catch {
            result = .failure(error)
        }
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        timer.cancel()
        switch result {
        case .success(let values): for waiter in batch { waiter.continuation.resume(returning: values[waiter.key]) }
        case .failure(let error): for waiter in batch { waiter.continuation.resume(throwing: error) }
        }
        handOver()
    }

    /// After a query: the next one starts for the lookups queued meanwhile, or the slot is freed.
    private func handOver() {
        let next = state.withLock { state in
            if state.waiting.isEmpty { state.queriesInFlight -= 1 }
            return !state.waiting.isEmpty
        }
        if next { startQuery() }
    }
}

extension TimeAmount {
    /// A `Duration` as NIO's time amount (saturating).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(nanoseconds.overflow ? .max : nanoseconds.partialValue &+ attoseconds / 1_000_000_000)
    }
}
