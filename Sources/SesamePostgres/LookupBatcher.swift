import Synchronization

/// Coalesces concurrent lookups by key into shared queries, so that a busy server sends PostgreSQL one
/// `= ANY($1)` query for many sessions instead of one query each.
///
/// No lookup waits for company: when fewer than `maximumQueries` queries are in flight, a lookup runs at once,
/// alone. Lookups that arrive while all of them are busy queue up, and when a query finishes, the first of
/// those waiting runs the next one for everybody queued so far (up to `maximumBatch` keys). So at low
/// concurrency each lookup is one query, and under load a query serves many.
final class LookupBatcher<Value: Sendable>: Sendable {
    /// Looks up the values of a batch of keys: the result holds an entry for each key that has one.
    typealias Fetch = @Sendable (_ keys: [String]) async throws -> [String: Value]

    private struct Waiter: Sendable {
        let key: String
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    /// What a queued lookup is woken with: its value, or the job of running the next query.
    private enum Outcome: Sendable {
        case value(Value?)
        case lead([Waiter])
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
            let values: [String: Value]
            do {
                values = try await fetch([key])
            } catch {
                handOver()
                throw error
            }
            handOver()
            return values[key]
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
            if !queued { continuation.resume(returning: .lead([Waiter(key: key, continuation: continuation)])) }
        }
        switch outcome {
        case .value(let value):
            return value
        case .lead(let batch):
            return try await run(batch, leaderKey: key)
        }
    }

    /// Runs one query for `batch` (whose first waiter is the caller, already woken), answers the others, and
    /// hands the query slot on.
    private func run(_ batch: [Waiter], leaderKey: String) async throws -> Value? {
        let others = batch.dropFirst()
        let values: [String: Value]
        do {
            values = try await fetch(Array(Set(batch.map(\.key))))
        } catch {
            for waiter in others { waiter.continuation.resume(throwing: error) }
            handOver()
            throw error
        }
        for waiter in others { waiter.continuation.resume(returning: .value(values[waiter.key])) }
        handOver()
        return values[leaderKey]
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
        leader.continuation.resume(returning: .lead(next))
    }
}
