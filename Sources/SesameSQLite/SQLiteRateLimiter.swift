import Foundation
import Sesame

/// A token-bucket `RateLimiter` in SQLite, with `MemoryRateLimiter`'s semantics: one upsert refills the
/// bucket, takes a token when there is one and says whether it did, atomically.
public struct SQLiteRateLimiter: RateLimiter {
    /// The database.
    public let storage: SQLiteStorage
    /// The most requests allowed at once.
    public let capacity: Double
    /// Seconds for one token to come back.
    public let refillInterval: Double
    /// Prepended to every key, to keep several limiters apart in one database.
    public let namespace: String
    private let now: @Sendable () -> Date

    /// Creates a limiter.
    ///
    /// - Parameters:
    ///   - storage: The database (shared with the other SQLite stores).
    ///   - capacity: The burst size.
    ///   - refillInterval: Seconds per token refilled.
    ///   - namespace: A prefix for this limiter's keys.
    ///   - now: The clock.
    public init(storage: SQLiteStorage, capacity: Int, refillInterval: Double, namespace: String = "", now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.capacity = Double(capacity)
        self.refillInterval = refillInterval
        self.namespace = namespace
        self.now = now
    }

    public func consume(_ key: String) async throws -> Int? {
        // In `DO UPDATE`, column names are the row's old values; ?2 capacity, ?3 now, ?4 refill interval.
        // Concurrent callers may arrive out of clock order: time never runs backwards for a bucket.
        let refilled = "min(?2, tokens + max(0, ?3 - updated_at) / ?4)"
        let rows = try await storage.rows(
            """
            INSERT INTO sesame_rate_limits (key, tokens, updated_at, allowed) VALUES (?1, ?2 - 1, ?3, 1)
            ON CONFLICT (key) DO UPDATE SET
                tokens = CASE WHEN \(refilled) >= 1 THEN \(refilled) - 1 ELSE \(refilled) END,
                allowed = CASE WHEN \(refilled) >= 1 THEN 1 ELSE 0 END,
                updated_at = max(updated_at, ?3)
            RETURNING tokens, allowed
            """,
            [.text(namespace + key), .float(capacity), .float(now().timeIntervalSince1970), .float(refillInterval)])
        guard let row = rows.first, let allowed = row.column("allowed")?.integer, let tokens = row.column("tokens")?.double else {
            throw SessionStoreError.invalidResponse("the rate-limit upsert returned no row")
        }
        return allowed == 1 ? nil : max(1, Int(((1 - tokens) * refillInterval).rounded(.up)))
    }
}
