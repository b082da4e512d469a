import Foundation
import Logging
import Synchronization

/// An in-process ``RevocationStore``, bounded and lock-striped.
///
/// It serves one process: revocations are not shared between instances and are lost on restart. Use a
/// persistent store when several instances serve the same sessions.
///
/// It never forgets a live revocation to make room: entries go only once they have expired. When it is full of
/// live entries, a new revocation throws ``MemoryStoreFullError`` (a stateless sign-out then answers 503), and
/// checks throw as well (tokens are refused as "revocation unavailable") until expiries make room again:
/// failing closed, logged once per episode.
public struct MemoryRevocationStore: RevocationStore {
    let revokedTokens: StripedDictionary<String, Double>
    let subjectCutoffs: StripedDictionary<String, Cutoff>
    private let retention: Double
    private let now: @Sendable () -> Double
    /// Whether anything was ever revoked: until then, checks need no lookup at all.
    private let hasEntries = SharedFlag()
    private let alarm: CapacityAlarm

    private final class SharedFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    struct Cutoff: Sendable {
        var notBefore: Double
        var forgetAfter: Double
    }

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - capacity: The most entries of each kind kept (default 100,000); expired entries make room, live ones
    ///     are never dropped.
    ///   - retention: How long a subject's "not before" moment is kept, in seconds; it must be at least the
    ///     longest session lifetime (default 30 days plus a day).
    ///   - logger: Where a full store is reported (once per episode).
    ///   - now: The clock, in seconds since 1970.
    public init(
        capacity: Int = 100_000, retention: Double = 31 * 24 * 60 * 60, logger: Logger = Logger(label: "sesame.revocations"),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        revokedTokens = StripedDictionary(capacity: capacity, whenFull: .refuse)
        subjectCutoffs = StripedDictionary(capacity: capacity, whenFull: .refuse)
        self.retention = retention
        self.now = now
        self.alarm = CapacityAlarm(store: "The in-memory revocation store", logger: logger)
    }

    public func isRevoked(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool {
        try isRevokedNow(tokenID: tokenID, subject: subject, issuedAt: issuedAt)
    }

    /// Answers from memory, always.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: Whether the token is revoked, or `nil` while the store is full and refusing revocations (then
    ///   ``isRevoked(tokenID:subject:issuedAt:)`` throws, and the token is refused).
    public func isRevokedWithoutWaiting(tokenID: String, subject: String, issuedAt: Date) -> Bool? {
        try? isRevokedNow(tokenID: tokenID, subject: subject, issuedAt: issuedAt)
    }

    private func isRevokedNow(tokenID: String, subject: String, issuedAt: Date) throws -> Bool {
        guard hasEntries.value.load(ordering: .acquiring) else { return false }
        if alarm.isRefusing { try checkRoom() }
        if let expiry = revokedTokens[tokenID], expiry > now() { return true }
        if let cutoff = subjectCutoffs[subject], issuedAt.timeIntervalSince1970 < cutoff.notBefore { return true }
        return false
    }

    /// While refusing: looks for room again (at most once a second) and throws until there is some.
    private func checkRoom() throws {
        let current = now()
        if alarm.sweepIsDue(now: current) {
            let tokensRoomy = revokedTokens.removeStale { $0 <= current }
            let cutoffsRoomy = subjectCutoffs.removeStale { $0.forgetAfter <= current }
            if tokensRoomy && cutoffsRoomy { alarm.recovered() }
        }
        if alarm.isRefusing { throw MemoryStoreFullError(store: "revocation store") }
    }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let current = now()
        hasEntries.value.store(true, ordering: .releasing)
        guard revokedTokens.insert(expiresAt.timeIntervalSince1970, for: tokenID, isStale: { $0 <= current }) else {
            alarm.refused(now: current)
            throw MemoryStoreFullError(store: "revocation store")
        }
    }

    public func revokeAll(subject: String, issuedBefore: Date) async throws {
        let current = now()
        // Token `iat`s are whole seconds: every token of the moment's second goes too (a sign-in in that same
        // second after the revocation is revoked as well, the safe side of the ambiguity).
        let notBefore = issuedBefore.timeIntervalSince1970.rounded(.down) + 1
        hasEntries.value.store(true, ordering: .releasing)
        let retention = self.retention
        let stored = subjectCutoffs.update(subject, isStale: { $0.forgetAfter <= current }) { existing in
            Cutoff(notBefore: max(existing?.notBefore ?? notBefore, notBefore), forgetAfter: current + retention)
        }
        guard stored else {
            alarm.refused(now: current)
            throw MemoryStoreFullError(store: "revocation store")
        }
    }
}

/// An in-memory store of security state is full of live entries and refused to forget one to make room.
public struct MemoryStoreFullError: Error, Sendable, CustomStringConvertible {
    /// Which store.
    public let store: String
    public var description: String { "the in-memory \(store) is full of live entries" }
}
