import Foundation
import Logging

/// Counts requests per key and says whether one more is allowed.
///
/// Implementations must be atomic per key: two concurrent requests never both take the last token.
public protocol RateLimiter: Sendable {
    /// Takes one token from `key`'s bucket.
    ///
    /// - Parameter key: What is being limited, for example `email:ada@example.com` or `ip:203.0.113.9`.
    /// - Returns: `nil` when the request is allowed, else the seconds until a token is available.
    /// - Throws: When the limiter's store cannot be reached (callers fail closed).
    func consume(_ key: String) async throws -> Int?
}

/// A token-bucket ``RateLimiter`` in memory: `capacity` requests at once, refilled at `refillInterval`
/// seconds per token. Bounded, lock-striped, and per-process.
///
/// Only buckets that have refilled completely (which a new bucket would equal) are forgotten to make room. When
/// the limiter tracks as many partly used buckets as it may, a request under a new key is limited (it answers
/// a retry delay) rather than resetting someone's bucket: a flood of distinct keys cannot lift a limit. Logged
/// when it starts and at most once a minute after.
public struct MemoryRateLimiter: RateLimiter {
    private struct Bucket: Sendable {
        var tokens: Double
        var updatedAt: Double
    }

    private let buckets: StripedDictionary<String, Bucket>
    /// The most requests allowed at once.
    public let capacity: Double
    /// Seconds for one token to come back.
    public let refillInterval: Double
    private let now: @Sendable () -> Double
    private let alarm: CapacityAlarm

    /// Creates a limiter.
    ///
    /// - Parameters:
    ///   - capacity: The burst size.
    ///   - refillInterval: Seconds per token refilled.
    ///   - maximumKeys: How many keys are tracked at most (only full buckets are forgotten; when every tracked
    ///     bucket is in use, new keys are limited).
    ///   - logger: Where a full limiter is reported (at most once a minute).
    ///   - now: The clock, in seconds since 1970.
    public init(
        capacity: Int, refillInterval: Double, maximumKeys: Int = 100_000, logger: Logger = Logger(label: "sesame.ratelimit"),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.capacity = Double(capacity)
        self.refillInterval = refillInterval
        self.buckets = StripedDictionary(capacity: maximumKeys, whenFull: .refuse)
        self.now = now
        self.alarm = CapacityAlarm(store: "The in-memory rate limiter", logger: logger)
    }

    /// How many keys' buckets are held now (at most `maximumKeys`): for gauges and memory checks.
    public var trackedKeyCount: Int { buckets.statistics.entries }

    public func consume(_ key: String) async throws -> Int? {
        let current = now()
        var retryAfter: Int? = nil
        let capacity = self.capacity, refillInterval = self.refillInterval
        let tracked = buckets.update(key, now: current, isStale: { current - $0.updatedAt >= (capacity - $0.tokens) * refillInterval }) { existing in
            var bucket = existing ?? Bucket(tokens: capacity, updatedAt: current)
            // Concurrent callers may arrive out of clock order: time never runs backwards for a bucket.
            bucket.tokens = min(capacity, bucket.tokens + max(0, current - bucket.updatedAt) / refillInterval)
            bucket.updatedAt = max(bucket.updatedAt, current)
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
            } else {
                retryAfter = max(1, Int(((1 - bucket.tokens) * refillInterval).rounded(.up)))
            }
            return bucket
        }
        guard tracked else {
            // No room to track one more client: limited, never a fresh bucket at someone else's expense.
            alarm.refused(now: current)
            return max(1, Int(refillInterval.rounded(.up)))
        }
        return retryAfter
    }
}

extension RateLimiter {
    /// Takes one token from `key`'s bucket, or refuses the request.
    ///
    /// - Parameter key: What is being limited.
    /// - Throws: ``AuthError/rateLimited`` with the seconds to wait, or ``AuthError/unavailable`` when the
    ///   limiter's store cannot be reached (a limit that cannot be checked is never skipped).
    func take(_ key: String) async throws(AuthError) {
        let retryAfter: Int?
        do {
            retryAfter = try await consume(key)
        } catch {
            throw AuthError.unavailable.with(detail: "rate limits cannot be checked")
        }
        if let retryAfter {
            throw AuthError(code: AuthError.rateLimited.code, status: .tooManyRequests, detail: AuthError.rateLimited.detail, retryAfter: retryAfter)
        }
    }
}
