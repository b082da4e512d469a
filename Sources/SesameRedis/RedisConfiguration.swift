import Foundation

/// Where a Redis server is and how to talk to it.
public struct RedisConfiguration: Sendable, Equatable {
    /// The server's host name or address.
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The ACL user for `AUTH`, or `nil` for the default user.
    public var username: String?
    /// The password for `AUTH`, or `nil` to skip authentication.
    public var password: String?
    /// The logical database selected on every connection.
    public var database: Int
    /// How many connections the client keeps (each pipelines many commands).
    public var poolSize: Int
    /// How long establishing a connection (TCP connect, `AUTH` and `SELECT`) may take.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply before it fails and its connection is dropped.
    public var commandTimeout: Duration
    /// The largest reply accepted, in bytes; larger replies are rejected as invalid.
    public var maximumReplySize: Int

    /// Why a Redis URL was rejected.
    public struct InvalidURL: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong with the URL (the password is never included).
        public var reason: String

        /// The reason, prefixed with what failed.
        public var description: String { "invalid Redis URL: \(reason)" }
    }

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - host: The server's host (default the IPv4 loopback address).
    ///   - port: The server's port (default 6379).
    ///   - username: The ACL user, or `nil` for the default user.
    ///   - password: The password, or `nil` when the server needs none.
    ///   - database: The logical database (default 0).
    ///   - poolSize: How many connections to keep (default: one per processor, at least 2; each pipelines, so
    ///     more connections than event loops only split the batches Redis reads and writes at once).
    ///   - connectTimeout: How long connecting may take (default 2 seconds).
    ///   - commandTimeout: How long a reply may take (default 2 seconds).
    ///   - maximumReplySize: The largest reply accepted, in bytes (default 64 MiB).
    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, poolSize: Int = max(2, ProcessInfo.processInfo.activeProcessorCount), connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2), maximumReplySize: Int = 64 << 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = max(1, poolSize)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maximumReplySize = maximumReplySize
    }

    /// Creates a configuration from a URL of the form `redis://[[user]:password@]host[:port][/database]`.
    ///
    /// User and password are percent-decoded; the port defaults to 6379 and the database to 0. The other
    /// settings take their defaults and may be changed afterwards.
    ///
    /// - Parameter url: The URL, for example `redis://:secret@127.0.0.1:6379/2`.
    /// - Throws: ``InvalidURL`` when the scheme is not `redis`, the host is missing, or the port or database
    ///   is not a number.
    public init(url: String) throws {
        guard let components = URLComponents(string: url) else { throw InvalidURL(reason: "not a URL") }
        guard components.scheme?.lowercased() == "redis" else {
            throw InvalidURL(reason: "the scheme must be redis:// (TLS is not supported)")
        }
        guard let host = components.host, !host.isEmpty else { throw InvalidURL(reason: "no host") }
        var database = 0
        let path = components.path.split(separator: "/", omittingEmptySubsequences: true)
        if let first = path.first {
            guard path.count == 1, let number = Int(first), number >= 0 else {
                throw InvalidURL(reason: "the path must be a database number")
            }
            database = number
        }
        if let port = components.port, !(1...65_535).contains(port) { throw InvalidURL(reason: "port out of range") }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.init(
            host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
            port: components.port ?? 6379,
            username: user?.isEmpty == false ? user : nil,
            password: password,
            database: database)
    }
}
