import Foundation

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
public struct MemoryReplayStore: ReplayStore {
    private let used: StripedDictionary<String, Double>
    private let now: @Sendable () -> Double

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - capacity: The most IDs kept at once (expired ones are forgotten first).
    ///   - now: The clock, in seconds since 1970.
    public init(capacity: Int = 100_000, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        used = StripedDictionary(capacity: capacity)
        self.now = now
    }

    public func consume(_ id: String, expiresAt: Date) async throws -> Bool {
        let current = now()
        var first = false
        used.update(id, isStale: { $0 <= current }) { existing in
            if let existing, existing > current { return existing }
            first = true
            return expiresAt.timeIntervalSince1970
        }
        return first
    }
}
