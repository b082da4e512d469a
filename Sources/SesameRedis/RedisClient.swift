import NIOCore
import NIOPosix
import Sesame
import Synchronization

/// A Redis client with a small pool of pipelining connections, used round-robin.
///
/// Connections open lazily on first use, authenticate and select the database; one that breaks is replaced
/// on the next command that lands on it. Failures surface as `SessionStoreError`:
/// `SessionStoreError.unavailable(_:)` when the server cannot be reached, refuses the credentials or
/// does not answer in time, `SessionStoreError.invalidResponse(_:)` for protocol errors and error
/// replies. Commands are not retried.
public final class RedisClient: Sendable {
    /// The server and the pool's settings.
    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let slots: [PoolSlot]
    private let nextSlot = Atomic<Int>(0)

    /// Creates a client; no connection is made until the first command.
    ///
    /// - Parameters:
    ///   - configuration: The server, credentials, pool size and timeouts.
    ///   - eventLoopGroup: Where the connections' I/O runs (default: NIO's shared group).
    public init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        slots = (0..<max(1, configuration.poolSize)).map { _ in PoolSlot() }
    }

    /// Sends a command on the next connection of the pool and waits for its reply.
    ///
    /// - Parameter command: The command.
    /// - Returns: The reply (never an error reply).
    /// - Throws: `SessionStoreError.unavailable(_:)` when the server cannot be reached, rejects the
    ///   credentials, is loading or does not answer in time; `SessionStoreError.invalidResponse(_:)`
    ///   for a malformed reply or an error reply.
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try Self.checked(await sendAllowingErrors(command))
    }

    /// Runs a Lua script atomically: by its SHA-1 with `EVALSHA`, loading it first when Redis does not know
    /// it yet (first use, or after a server restart).
    ///
    /// - Parameters:
    ///   - script: The script.
    ///   - keys: The keys it touches (`KEYS` in Lua).
    ///   - arguments: Its other arguments (`ARGV` in Lua), binary-safe.
    /// - Returns: The script's reply (never an error reply).
    /// - Throws: As ``send(_:)``; a script error is `SessionStoreError.invalidResponse(_:)`.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [[UInt8]]) async throws -> RESPValue {
        if let hash = script.hash {
            let reply = try await sendAllowingErrors(Self.evalsha(hash, keys: keys, arguments: arguments))
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
                // The server forgot its scripts (a restart or SCRIPT FLUSH): load it again below.
            } else {
                return try Self.checked(reply)
            }
        }
        guard let hash = try await send(RedisCommand("SCRIPT", "LOAD", script.source)).string else {
            throw SessionStoreError.invalidResponse("SCRIPT LOAD did not answer a SHA-1")
        }
        script.remember(hash: hash)
        return try Self.checked(await sendAllowingErrors(Self.evalsha(hash, keys: keys, arguments: arguments)))
    }

    /// Runs a Lua script with text arguments; see ``evaluate(_:keys:arguments:)-(_,_,[[UInt8]])``.
    ///
    /// - Parameters:
    ///   - script: The script.
    ///   - keys: The keys it touches (`KEYS` in Lua).
    ///   - arguments: Its other arguments (`ARGV` in Lua), sent as UTF-8.
    /// - Returns: The script's reply (never an error reply).
    /// - Throws: As ``evaluate(_:keys:arguments:)-(_,_,[[UInt8]])``.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        try await evaluate(script, keys: keys, arguments: arguments.map { Array($0.utf8) })
    }

    /// Closes every connection; later commands fail with `SessionStoreError.unavailable(_:)`.
    public func shutdown() async {
        for slot in slots { await slot.shutdown() }
    }

    /// Sends a command and returns its reply, error replies included.
    func sendAllowingErrors(_ command: RedisCommand) async throws -> RESPValue {
        let index = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = slots[(index % slots.count + slots.count) % slots.count]
        let configuration = configuration, eventLoopGroup = eventLoopGroup
        let connection = try await slot.connection {
            try await RedisConnection.connect(configuration: configuration, eventLoopGroup: eventLoopGroup)
        }
        return try await connection.send(command)
    }

    private static func evalsha(_ hash: String, keys: [String], arguments: [[UInt8]]) -> RedisCommand {
        var command = RedisCommand("EVALSHA", hash, String(keys.count))
        for key in keys { command.append(key) }
        for argument in arguments { command.append(bytes: argument) }
        return command
    }

    /// The reply, or the error an error reply stands for.
    static func checked(_ reply: RESPValue) throws -> RESPValue {
        guard case .error(let message) = reply else { return reply }
        switch message.prefix(while: { $0 != " " }) {
        case "NOAUTH", "WRONGPASS", "LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "OOM":
            throw SessionStoreError.unavailable("Redis: \(message)")
        default:
            throw SessionStoreError.invalidResponse("Redis: \(message)")
        }
    }
}
