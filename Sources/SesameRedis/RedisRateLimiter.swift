import Foundation
import Sesame

/// A token-bucket `RateLimiter` in Redis, with the semantics of `MemoryRateLimiter`:
/// `capacity` requests at once, refilled at `refillInterval` seconds per token, shared by every process.
///
/// Each bucket is a hash `{prefix}l:{key}` (tokens and last update) updated by one Lua script, so concurrent
/// requests never both take the last token; Redis forgets a bucket once it would be full again. Limiters
/// with different settings need different key prefixes.
public struct RedisRateLimiter: RateLimiter {
    private let client: RedisClient
    private let prefix: String
    /// The most requests allowed at once.
    public let capacity: Double
    /// Seconds for one token to come back.
    public let refillInterval: Double
    private let now: @Sendable () -> Double

    /// Creates a limiter.
    ///
    /// - Parameters:
    ///   - client: The Redis client (it may be shared with other stores).
    ///   - capacity: The burst size.
    ///   - refillInterval: Seconds per token refilled.
    ///   - keyPrefix: Put before every key the limiter uses (default `sesame:`).
    ///   - now: The clock, in seconds since 1970.
    public init(
        client: RedisClient, capacity: Int, refillInterval: Double, keyPrefix: String = "sesame:",
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.client = client
        self.capacity = Double(capacity)
        self.refillInterval = refillInterval
        prefix = keyPrefix + "l:"
        self.now = now
    }

    /// Takes one token from `key`'s bucket, atomically in Redis.
    ///
    /// - Parameter key: What is being limited, for example `ip:203.0.113.9`.
    /// - Returns: `nil` when the request is allowed, else the whole seconds until a token is available.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func consume(_ key: String) async throws -> Int? {
        let reply = try await client.evaluate(
            Self.consumeScript, keys: [prefix + key],
            arguments: [String(capacity), String(refillInterval), String(now())])
        guard case .integer(let retryAfter) = reply else {
            throw SessionStoreError.invalidResponse("the rate limit script answered \(reply)")
        }
        return retryAfter < 0 ? nil : Int(retryAfter)
    }

    /// Refills the bucket for the time passed, takes a token if there is one, and answers -1 (allowed) or the
    /// whole seconds until a token is back (at least 1).
    ///
    /// KEYS: bucket key. ARGV: capacity, refill interval (seconds per token), now (seconds).
    static let consumeScript = RedisScript("""
        local capacity, interval, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local bucket = redis.call('HMGET', KEYS[1], 't', 'u')
        local tokens, updatedAt = tonumber(bucket[1]), tonumber(bucket[2])
        if not tokens or not updatedAt then tokens, updatedAt = capacity, now end
        -- Concurrent callers may arrive out of clock order: time never runs backwards for a bucket.
        tokens = math.min(capacity, tokens + math.max(0, now - updatedAt) / interval)
        now = math.max(now, updatedAt)
        local retryAfter = -1
        if tokens >= 1 then
          tokens = tokens - 1
        else
          retryAfter = math.max(1, math.ceil((1 - tokens) * interval))
        end
        redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', string.format('%.17g', now))
        redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) * interval * 1000)))
        return retryAfter
        """)
}
