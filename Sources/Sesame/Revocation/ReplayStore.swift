import Foundation
import Logging

/// Remembers single-use token IDs so that each is redeemed at most once.
public protocol ReplayStore: Sendable {
    /// Marks a token ID as used.
    ///
    /// Must be atomic: of two concurrent calls with the same ID, exactly one returns `true`.
    ///
    /// - Parameters:
    ///   - id: The token's ID (`jti`).
    ///   - expiresAt: When the token expires; the ID may be forgotten after it.
    /// - Returns: `true` the first time, `false` for every later use.
    /// - Throws: When the store cannot be reached (callers fail closed).
    func consume(_ id: String, expiresAt: Date) async throws -> Bool
}

/// An in-memory ``ReplayStore``: bounded, lock-striped, per-process.
///
/// A used ID is kept until its token expires and never forgotten before to make room: when the store is full of
/// live IDs, a redemption of a new one throws ``MemoryStoreFullError`` (the sign-in answers 503, "unavailable")
/// instead of making a used link or flow redeemable again; logged when it starts and at most once a minute after.
public struct MemoryReplayStore: ReplayStore {
    private let used: StripedDictionary<String, Double>
    private let now: @Sendable () -> Double
    private let alarm: CapacityAlarm

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - capacity: The most IDs kept at once (expired ones make room; live ones are never dropped).
    ///   - logger: Where a full store is reported (at most once a minute).
    ///   - now: The clock, in seconds since 1970.
    public init(
        capacity: Int = 100_000, logger: Logger = Logger(label: "sesame.replay"),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        used = StripedDictionary(capacity: capacity, whenFull: .refuse)
        self.now = now
        alarm = CapacityAlarm(store: "The in-memory replay store", logger: logger)
    }

    /// How many used IDs are held now (at most `capacity`): for gauges and memory checks.
    public var entryCount: Int { used.statistics.entries }

    public func consume(_ id: String, expiresAt: Date) async throws -> Bool {
        let current = now()
        var first = false
        let stored = used.update(id, now: current, isStale: { $0 <= current }) { existing in
            if let existing, existing > current { return existing }
            first = true
            return expiresAt.timeIntervalSince1970
        }
        guard stored else {
            alarm.refused(now: current)
            throw MemoryStoreFullError(store: "replay store")
        }
        return first
    }
}
