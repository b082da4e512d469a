/// A value that is either ready now or needs waiting for: the one shape of every step of a request's session
/// flow (resolve, revocation check, commit).
///
/// A step that can answer from memory answers ``now(_:)``, and an integration built on event-loop futures (Vapor)
/// goes on without starting a task; a step that must ask a server answers ``later(_:)``. `async` code just awaits
/// ``value``.
public enum Eventual<Value: Sendable>: Sendable {
    /// The value, ready.
    case now(Value)
    /// The work that produces the value.
    case later(@Sendable () async -> Value)

    /// The value, waiting for it when it is not ready.
    @inlinable
    public var value: Value {
        get async {
            switch self {
            case .now(let value): value
            case .later(let produce): await produce()
            }
        }
    }

    /// The value of throwing work that must be waited for, with its error kept in the result.
    ///
    /// - Parameter work: The work, for example a query to a store's server.
    /// - Returns: `later`, running `work`.
    @inlinable
    public static func catching<Success: Sendable>(_ work: @escaping @Sendable () async throws -> Success) -> Eventual<Result<Success, any Error>>
    where Value == Result<Success, any Error> {
        .later {
            do { return .success(try await work()) } catch { return .failure(error) }
        }
    }
}
