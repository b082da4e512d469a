import Foundation
import Sesame

/// A `ReplayStore` in Redis: each used ID is a key `{prefix}r:{id}` set with `SET NX PXAT`, so of
/// any number of concurrent uses exactly one wins, and Redis forgets the ID when its token expires.
public struct RedisReplayStore: ReplayStore {
    private let client: RedisClient
    private let prefix: String
    private let now: @Sendable () -> Date

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - client: The Redis client (it may be shared with other stores).
    ///   - keyPrefix: Put before every key the store uses (default `sesame:`).
    ///   - now: The clock.
    public init(client: RedisClient, keyPrefix: String = "sesame:", now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        prefix = keyPrefix + "r:"
        self.now = now
    }

    /// Marks a token ID as used, with `SET NX PXAT`.
    ///
    /// - Parameters:
    ///   - id: The token's ID (`jti`).
    ///   - expiresAt: When the token expires; Redis forgets the ID then.
    /// - Returns: `true` the first time, `false` for every later use.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func consume(_ id: String, expiresAt: Date) async throws -> Bool {
        let expiry = RedisSessionStore.milliseconds(expiresAt)
        // An expired ID needs no remembering (and Redis refuses expiry times in the past): as in memory, its
        // use counts as a first use, and the caller's own expiry check rejects the token.
        guard expiry > RedisSessionStore.milliseconds(now()) else { return true }
        let reply = try await client.send(RedisCommand("SET", prefix + id, "1", "NX", "PXAT", String(expiry)))
        switch reply {
        case .simpleString("OK"): return true
        case .null: return false
        default: throw SessionStoreError.invalidResponse("SET NX answered \(reply)")
        }
    }
}
