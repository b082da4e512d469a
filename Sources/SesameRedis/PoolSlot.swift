import Sesame
import Synchronization

/// One connection of a ``RedisClient``'s pool: opened when first needed and again after it breaks.
///
/// Concurrent callers share one connection attempt; the lock is held only to read or swap the state.
final class PoolSlot: Sendable {
    private enum State: Sendable {
        case idle
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
        case shutDown
    }

    private enum Next {
        case ready(RedisConnection)
        case wait(Task<RedisConnection, any Error>)
        case closed
    }

    private let state = Mutex<State>(.idle)

    /// The slot's open connection, opening one with `open` when there is none or it broke.
    ///
    /// - Parameter open: Opens a new connection.
    /// - Returns: An open connection.
    /// - Throws: What `open` throws, or `SessionStoreError.unavailable(_:)` after ``shutdown()``.
    func connection(open: @escaping @Sendable () async throws -> RedisConnection) async throws -> RedisConnection {
        let next: Next = state.withLock { state in
            switch state {
            case .connected(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let task):
                return .wait(task)
            case .shutDown:
                return .closed
            case .idle, .connected:
                let task = Task { try await open() }
                state = .connecting(task)
                return .wait(task)
            }
        }
        switch next {
        case .ready(let connection):
            return connection
        case .closed:
            throw SessionStoreError.unavailable("the Redis client was shut down")
        case .wait(let task):
            let connection: RedisConnection
            do {
                connection = try await task.value
            } catch {
                state.withLock { state in
                    if case .connecting(let current) = state, current == task { state = .idle }
                }
                throw error
            }
            let isShutDown = state.withLock { state in
                if case .connecting(let current) = state, current == task { state = .connected(connection) }
                if case .shutDown = state { return true }
                return false
            }
            if isShutDown {
                await connection.close()
                throw SessionStoreError.unavailable("the Redis client was shut down")
            }
            return connection
        }
    }

    /// Closes the connection (waiting for an attempt in progress) and refuses new ones.
    func shutdown() async {
        let previous = state.withLock { state in
            let previous = state
            state = .shutDown
            return previous
        }
        switch previous {
        case .connected(let connection): await connection.close()
        case .connecting(let task): await (try? task.value)?.close()
        case .idle, .shutDown: break
        }
    }
}
