import Synchronization

/// Coalesces concurrent lookups by key into shared queries, so that a busy server sends PostgreSQL one
/// `= ANY($1)` query for many sessions instead of one query each.
///
/// No lookup waits for company: when fewer than `maximumQueries` queries are in flight, a lookup takes a slot at
/// once and runs after one scheduler turn (`Task.yield()`), with whatever lookups queued during that turn.
/// Lookups that arrive while every slot is busy queue up, and when a query finishes, the first of those waiting
/// runs the next one for everybody queued so far (up to `maximumBatch` keys). So at low concurrency each lookup
/// is one query, and under load a query serves many.
final class LookupBatcher<Value: Sendable>: Sendable {
    /// Looks up the values of a batch of keys: the result holds an entry for each key that has one.
    typealias Fetch = @Sendable (_ keys: [String]) async throws -> [String: Value]

    private struct Waiter: Sendable {
        let key: String
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    /// What a queued lookup is woken with: its value, or the job of running the next query for itself and the
    /// other lookups queued with it.
    private enum Outcome: Sendable {
        case value(Value?)
        case lead(others: [Waiter])
    }

    private struct State {
        var queriesInFlight = 0
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())
    private let maximumQueries: Int
    private let maximumBatch: Int
    private let fetch: Fetch

    /// Creates a batcher.
    ///
    /// - Parameters:
    ///   - maximumQueries: How many queries may run at once before lookups queue.
    ///   - maximumBatch: The most keys one query asks for.
    ///   - fetch: Runs one query.
    init(maximumQueries: Int, maximumBatch: Int = 128, fetch: @escaping Fetch) {
        self.maximumQueries = max(1, maximumQueries)
        self.maximumBatch = max(1, maximumBatch)
        self.fetch = fetch
    }

    /// How many lookups are queued for the next query.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// The value for `key`, or `nil` when it has none.
    ///
    /// - Parameter key: The key.
    /// - Returns: The value, or `nil`.
    /// - Throws: What the query that served it threw.
    func value(for key: String) async throws -> Value? {
        let runsNow = state.withLock { state in
            guard state.queriesInFlight < maximumQueries else { return false }
            state.queriesInFlight += 1
            return true
        }
        if runsNow {
            // Let the lookups that are ready to run (the tasks the last query woke, typically) reach the queue
            // before this query leaves: one scheduler turn, nothing when no one else is running.
            await Task.yield()
            return try await run(leaderKey: key, others: takeWaiting())
        }
        let outcome = try await withCheckedThrowingContinuation { continuation in
            // Queued only while every query slot is busy; otherwise the slot is ours after all.
            let queued = state.withLock { state in
                guard state.queriesInFlight >= maximumQueries else {
                    state.queriesInFlight += 1
                    return false
                }
                state.waiting.append(Waiter(key: key, continuation: continuation))
                return true
            }
            if !queued { continuation.resume(returning: .lead(others: [])) }
        }
        switch outcome {
        case .value(let value):
            return value
        case .lead(let others):
            return try await run(leaderKey: key, others: others)
        }
    }

    /// Runs one query for the caller's key and the waiting `others`, answers them, and hands the query slot on.
    private func run(leaderKey: String, others: [Waiter]) async throws -> Value? {
        let values: [String: Value]
        do {
            values = try await fetch(Array(Set([leaderKey] + others.map(\.key))))
        } catch {
            for waiter in others { waiter.continuation.resume(throwing: error) }
            handOver()
            throw error
        }
        for waiter in others { waiter.continuation.resume(returning: .value(values[waiter.key])) }
        handOver()
        return values[leaderKey]
    }

    /// Removes and returns up to `maximumBatch - 1` queued lookups, to ride along with a query about to run.
    private func takeWaiting() -> [Waiter] {
        state.withLock { state in
            let count = min(maximumBatch - 1, state.waiting.count)
            defer { state.waiting.removeFirst(count) }
            return Array(state.waiting.prefix(count))
        }
    }

    /// After a query: the lookups queued meanwhile get the slot (their first one runs the next query for all
    /// of them), or the slot is freed.
    private func handOver() {
        let next: [Waiter]? = state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.queriesInFlight -= 1
                return nil
            }
            let count = min(maximumBatch, state.waiting.count)
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return batch
        }
        guard let next, let leader = next.first else { return }
        leader.continuation.resume(returning: .lead(others: Array(next.dropFirst())))
    }
}
