import NIOCore
import NIOPosix
import Sesame

/// One connection to a Redis server, pipelining: any number of commands may be in flight at once, and each
/// gets its own reply (Redis answers in order).
///
/// A connection that fails or times out closes itself and fails every command in flight with
/// `SessionStoreError.unavailable(_:)`; it is not reopened (``RedisClient`` opens a new one).
public final class RedisConnection: Sendable {
    private let channel: any Channel
    private let commandTimeout: TimeAmount

    private init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Connects to the server, authenticates and selects the database.
    ///
    /// - Parameters:
    ///   - configuration: The server and the timeouts.
    ///   - eventLoopGroup: Where the connection's I/O runs.
    /// - Returns: A connection ready for commands.
    /// - Throws: `SessionStoreError.unavailable(_:)` when the server cannot be reached in time or
    ///   rejects the credentials or the database; `SessionStoreError.invalidResponse(_:)` when it
    ///   answers something unexpected.
    public static func connect(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RedisConnection {
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        let maximumReplySize = configuration.maximumReplySize
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(RESPReplyDecoder(maximumReplySize: maximumReplySize)))
                    try channel.pipeline.syncOperations.addHandler(RedisPipelineHandler())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw SessionStoreError.unavailable(
                "cannot connect to Redis at \(configuration.host):\(configuration.port): \(error)")
        }
        let connection = RedisConnection(channel: channel, commandTimeout: TimeAmount(configuration.commandTimeout))
        do {
            // The handshake must fit in the connect timeout too.
            try await connection.handshake(configuration, timeout: connectTimeout)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Sends `AUTH` and `SELECT` as the configuration asks, pipelined, and checks their replies.
    private func handshake(_ configuration: RedisConfiguration, timeout: TimeAmount) async throws {
        var steps: [(command: RedisCommand, purpose: String)] = []
        if let password = configuration.password {
            var auth = RedisCommand("AUTH")
            if let username = configuration.username { auth.append(username) }
            auth.append(password)
            steps.append((auth, "the credentials"))
        }
        if configuration.database != 0 {
            steps.append((RedisCommand("SELECT", String(configuration.database)), "database \(configuration.database)"))
        }
        let replies = steps.map { sendFuture($0.command, timeout: timeout) }
        for (step, reply) in zip(steps, replies) {
            if case .error(let message) = try await reply.get() {
                throw SessionStoreError.unavailable("Redis refused \(step.purpose): \(message)")
            }
        }
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Sends a command and waits for its reply.
    ///
    /// - Parameter command: The command.
    /// - Returns: The reply; an error reply is returned as ``RESPValue/error(_:)``, not thrown.
    /// - Throws: `SessionStoreError.unavailable(_:)` when the connection is closed, fails or the
    ///   reply does not come within the command timeout; `SessionStoreError.invalidResponse(_:)`
    ///   when the reply is malformed or too large.
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await sendFuture(command).get()
    }

    /// Writes a command now and returns the future of its reply (commands are sent in call order).
    ///
    /// - Parameters:
    ///   - command: The command.
    ///   - timeout: How long the reply may take, instead of the connection's command timeout.
    /// - Returns: The future reply, as ``send(_:)`` describes it.
    func sendFuture(_ command: RedisCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RESPValue> {
        var bytes = channel.allocator.buffer(capacity: command.encodedSize)
        command.encode(into: &bytes)
        let reply = channel.eventLoop.makePromise(of: RESPValue.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            reply.fail((error as? SessionStoreError) ?? .unavailable("cannot write to Redis: \(error)"))
        }
        let request = RedisPipelineHandler.Request(bytes: bytes, reply: reply, deadline: .now() + (timeout ?? commandTimeout))
        channel.writeAndFlush(request, promise: written)
        return reply.futureResult
    }

    /// Closes the connection; commands in flight fail with `SessionStoreError.unavailable(_:)`.
    public func close() async {
        try? await channel.close()
    }
}
