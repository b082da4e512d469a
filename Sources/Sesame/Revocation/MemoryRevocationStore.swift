import Foundation
import Logging
import Synchronization

/// An in-process ``RevocationStore``, bounded and lock-striped.
///
/// It serves one process: revocations are not shared between instances and are lost on restart. Use a
/// persistent store when several instances serve the same sessions.
///
/// It never forgets a live revocation to make room: entries go only once they have expired. When its deny-list of
/// token IDs is full of live entries, a new ``revoke(tokenID:expiresAt:)`` throws ``MemoryStoreFullError``
/// (``SessionTokens/revoke(_:)`` then records a "not before" cut-off for the token's subject instead, which
/// revokes that token and the subject's older ones, one entry per subject). When the cut-offs are full as well,
/// ``revokeAll(subject:issuedBefore:)`` throws, and checks throw too (every token is refused as "revocation
/// unavailable") until expiries make room again: failing closed. A full store is logged when it starts refusing and
/// at most once a minute after.
public struct MemoryRevocationStore: RevocationStore {
    let revokedTokens: StripedDictionary<String, Double>
    let subjectCutoffs: StripedDictionary<String, Cutoff>
    private let retention: Double
    private let now: @Sendable () -> Double
    /// Whether anything was ever revoked: until then, checks need no lookup at all.
    private let hasEntries = SharedFlag()
    /// Reports a full deny-list (writes fail; checks go on: every revocation it holds is still there).
    private let tokensAlarm: CapacityAlarm
    /// Reports full cut-offs, the last resort: checks fail closed while it is refusing.
    private let cutoffsAlarm: CapacityAlarm

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
    ///   - logger: Where a full store is reported (when it starts refusing, and at most once a minute after).
    ///   - now: The clock, in seconds since 1970.
    public init(
        capacity: Int = 100_000, retention: Double = 31 * 24 * 60 * 60, logger: Logger = Logger(label: "sesame.revocations"),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        revokedTokens = StripedDictionary(capacity: capacity, whenFull: .refuse)
        subjectCutoffs = StripedDictionary(capacity: capacity, whenFull: .refuse)
        self.retention = retention
        self.now = now
        self.tokensAlarm = CapacityAlarm(store: "The in-memory revocation store's token deny-list", logger: logger)
        self.cutoffsAlarm = CapacityAlarm(store: "The in-memory revocation store's subject cut-offs", logger: logger)
    }

    /// How many revoked tokens the deny-list holds now (at most `capacity`): for gauges and memory checks.
    public var revokedTokenCount: Int { revokedTokens.statistics.entries }

    /// How many subjects' "not before" moments are held now (at most `capacity`).
    public var subjectCutoffCount: Int { subjectCutoffs.statistics.entries }

    /// Answers from memory, at once: a failure ( ``MemoryStoreFullError``) only while the subject cut-offs are full
    /// and refusing, and then the token is refused.
    public func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> {
        .now(Result { try isRevokedNow(tokenID: tokenID, subject: subject, issuedAt: issuedAt) })
    }

    private func isRevokedNow(tokenID: String, subject: String, issuedAt: Date) throws -> Bool {
        guard hasEntries.value.load(ordering: .acquiring) else { return false }
        if cutoffsAlarm.isRefusing { try checkRoom() }
        if let expiry = revokedTokens[tokenID], expiry > now() { return true }
        if let cutoff = subjectCutoffs[subject], issuedAt.timeIntervalSince1970 < cutoff.notBefore { return true }
        return false
    }

    /// While the cut-offs refuse: looks for room again (at most once a second) and throws until there is some.
    private func checkRoom() throws {
        let current = now()
        if cutoffsAlarm.sweepIsDue(now: current), subjectCutoffs.removeStale({ $0.forgetAfter <= current }) {
            cutoffsAlarm.recovered()
        }
        if cutoffsAlarm.isRefusing { throw MemoryStoreFullError(store: "revocation store") }
    }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let current = now()
        hasEntries.value.store(true, ordering: .releasing)
        guard revokedTokens.insert(expiresAt.timeIntervalSince1970, for: tokenID, now: current, isStale: { $0 <= current }) else {
            tokensAlarm.refused(now: current)
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
        let stored = subjectCutoffs.update(subject, now: current, isStale: { $0.forgetAfter <= current }) { existing in
            Cutoff(notBefore: max(existing?.notBefore ?? notBefore, notBefore), forgetAfter: current + retention)
        }
        guard stored else {
            cutoffsAlarm.refused(now: current)
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
