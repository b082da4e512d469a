import PostgresNIO
import Sesame

/// Turns what PostgresNIO throws into the `SessionStoreError` a Sesame store promises.
///
/// Reachability problems (refused or dropped connections, a server shutting down or still starting up, too many
/// connections, no answer in time, a pool that gave up connecting) become `SessionStoreError.unavailable(_:)`;
/// rows that cannot be decoded and protocol or SQL errors become `SessionStoreError.invalidResponse(_:)`.
/// Messages never include bound values (they may be session keys).
enum PostgresErrorClassifier {
    /// The store error for `error`; task cancellation stays a `CancellationError`.
    static func storeError(for error: any Error) -> any Error {
        switch error {
        case let error as SessionStoreError:
            return error
        case let error as AccountStoreError:
            return error
        case is CancellationError:
            return error
        case let error as OperationDeadline.Exceeded:
            return SessionStoreError.unavailable("PostgreSQL did not answer within \(error.timeout)")
        case let error as PostgresDecodingError:
            return SessionStoreError.invalidResponse(
                "column \(error.columnName) (\(error.postgresType)) is not a \(error.targetType): \(error.code)")
        case let error as PostgresTransactionError:
            let cause = error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError
            return cause.map(storeError(for:)) ?? SessionStoreError.invalidResponse("transaction failed")
        case let error as PSQLError:
            return storeError(for: error)
        default:
            // Anything else comes from the connection pool or the channel beneath it (for example the pool's
            // circuit breaker after a minute of failed connection attempts): the store cannot be reached.
            return SessionStoreError.unavailable("\(type(of: error)): \(error)")
        }
    }

    private static func storeError(for error: PSQLError) -> SessionStoreError {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? "?????"
            let message = error.serverInfo?[.message] ?? "no message"
            let detail = "SQLSTATE \(state): \(message)"
            return isUnavailability(sqlState: state) ? .unavailable(detail) : .invalidResponse(detail)
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            .queryCancelled, .sslUnsupported, .failedToAddSSLHandler:
            let underlying = error.underlying.map { ": \($0)" } ?? ""
            return .unavailable("\(error.code)\(underlying)")
        default:
            return .invalidResponse("\(error.code)")
        }
    }

    /// Connection exceptions (08), insufficient resources (53), operator intervention such as a shutdown,
    /// a server still starting or a statement timeout (57), and system errors (58).
    private static func isUnavailability(sqlState: String) -> Bool {
        ["08", "53", "57", "58"].contains(String(sqlState.prefix(2)))
    }
}
