import Foundation
import Logging
import PostgresNIO

/// Helpers for the `PostgresClient` the PostgreSQL stores run on: a configuration from a connection URL, and
/// running the client for the duration of a closure.
public enum PostgresStoreClient {
    /// Why a connection URL was refused.
    public struct InvalidURL: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong (the URL itself is left out: it may hold a password).
        public let reason: String

        /// A readable explanation.
        public var description: String { "invalid PostgreSQL URL: \(reason)" }
    }

    /// A client configuration from a URL such as `postgres://sesame:secret@127.0.0.1:5432/app`.
    ///
    /// The scheme is `postgres` or `postgresql`; the user is required, the password, port (default 5432) and
    /// database (default: the user's name) are optional; user and password may be percent-encoded. The query
    /// parameter `sslmode` chooses TLS: `disable`, `prefer` (the default: TLS when the server offers it) or
    /// `require` (also `verify-ca` and `verify-full`), where the server's certificate is always verified
    /// against the system's trust roots.
    ///
    /// - Parameters:
    ///   - url: The connection URL.
    ///   - connectTimeout: How long opening one connection may take (default 5 seconds).
    ///   - maximumConnections: The most connections the pool opens (default 20).
    /// - Returns: The configuration, for `PostgresClient(configuration:)`.
    /// - Throws: ``InvalidURL`` when the URL cannot be understood.
    public static func configuration(
        url: String, connectTimeout: Duration = .seconds(5), maximumConnections: Int = 20
    ) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url) else { throw InvalidURL(reason: "not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw InvalidURL(reason: "the scheme must be postgres or postgresql")
        }
        guard let host = components.host, !host.isEmpty else { throw InvalidURL(reason: "no host") }
        guard let username = components.user, !username.isEmpty else { throw InvalidURL(reason: "no user") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw InvalidURL(reason: "the port is out of range") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.contains("/") else { throw InvalidURL(reason: "the path must be a database name") }

        let tls: PostgresClient.Configuration.TLS
        switch components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw InvalidURL(reason: "sslmode must be disable, prefer or require")
        }

        // Hosts in brackets are IPv6 literals.
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var configuration = PostgresClient.Configuration(
            host: bareHost, port: port, username: username, password: components.password,
            database: path.isEmpty ? nil : path, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maximumConnections
        return configuration
    }

    /// Creates a client, runs it while `body` runs, and shuts it down afterwards (also when `body` throws).
    ///
    /// `PostgresClient` hands out connections only while its `run()` method runs in some task; this runs it in
    /// a child task. Apps with a swift-service-lifecycle `ServiceGroup` can add the client to the group instead.
    ///
    /// - Parameters:
    ///   - configuration: The client's configuration, for example from ``configuration(url:connectTimeout:maximumConnections:)``.
    ///   - logger: Where the client logs its background work (connections opened and lost), or `nil` for nowhere.
    ///   - body: The work that uses the client; the client must not be used after it returns.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public static func withRunningClient<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, logger: Logger? = nil,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client =
            if let logger { PostgresClient(configuration: configuration, backgroundLogger: logger) }
            else { PostgresClient(configuration: configuration) }
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
