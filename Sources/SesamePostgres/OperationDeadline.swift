import NIOCore
import NIOPosix
import Synchronization

/// Runs an operation with a deadline, returning (or throwing) as soon as either the operation finishes or the
/// deadline passes, whichever comes first.
///
/// PostgresNIO does not stop a query that is already on the wire when its task is cancelled, and a task group
/// would wait for it anyway; so the operation runs in its own task, and the caller is answered by whichever of
/// the operation and a timer finishes first. A late operation is cancelled and left to finish on its own (its
/// connection lease ends with it), so a hung server never holds a request.
enum OperationDeadline {
    /// The operation did not finish in time.
    struct Exceeded: Error, Sendable {
        let timeout: Duration
    }

    /// Runs `operation`, giving up after `timeout`.
    ///
    /// - Parameters:
    ///   - timeout: How long to wait for the operation.
    ///   - operation: The work; it is cancelled when the deadline passes or the caller is cancelled.
    /// - Returns: The operation's result.
    /// - Throws: The operation's error, ``Exceeded`` when the deadline passed first, or `CancellationError` when
    ///   the calling task was cancelled first.
    static func run<Value: Sendable>(
        within timeout: Duration, _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let race = Race<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation, timeout: timeout, operation: operation)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// The shared state of one run: the first of the operation, the timer and a cancellation to finish wins.
    private final class Race<Value: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Value, any Error>?
            /// The outcome, kept when the race ended before the continuation was installed.
            var early: Result<Value, any Error>?
            var finished = false
            var work: Task<Void, Never>?
            var timer: Scheduled<Void>?
        }

        private let state = Mutex(State())

        func start(
            _ continuation: CheckedContinuation<Value, any Error>, timeout: Duration,
            operation: @escaping @Sendable () async throws -> Value
        ) {
            let early: Result<Value, any Error>? = state.withLock { state in
                if state.finished { return state.early }
                state.continuation = continuation
                return nil
            }
            if let early {
                continuation.resume(with: early)
                return
            }
            let work = Task {
                do {
                    finish(.success(try await operation()))
                } catch {
                    finish(.failure(error))
                }
            }
            // The timer is a task scheduled on an event loop (a heap entry, cancelled in O(log n)), not a
            // sleeping Swift task: one fewer task started and cancelled per operation.
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(timeout)) {
                self.finish(.failure(Exceeded(timeout: timeout)))
            }
            let finishedMeanwhile = state.withLock { state in
                if state.finished { return true }
                state.work = work
                state.timer = timer
                return false
            }
            if finishedMeanwhile {
                work.cancel()
                timer.cancel()
            }
        }

        func finish(_ result: Result<Value, any Error>) {
            let (continuation, work, timer) = state.withLock { state in
                guard !state.finished else {
                    return (CheckedContinuation<Value, any Error>?.none, Task<Void, Never>?.none, Scheduled<Void>?.none)
                }
                state.finished = true
                let taken = (state.continuation, state.work, state.timer)
                if state.continuation == nil { state.early = result }
                state.continuation = nil
                state.work = nil
                state.timer = nil
                return taken
            }
            work?.cancel()
            timer?.cancel()
            continuation?.resume(with: result)
        }
    }
}
