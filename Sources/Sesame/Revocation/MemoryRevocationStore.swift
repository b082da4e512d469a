import Foundation
import Synchronization

/// An in-process ``RevocationStore``, bounded and lock-striped.
///
/// It serves one process: revocations are not shared between instances and are lost on restart. Use a
/// persistent store when several instances serve the same sessions.
public struct MemoryRevocationStore: RevocationStore {
    private let revokedTokens: StripedDictionary<String, Double>
    private let subjectCutoffs: StripedDictionary<String, Cutoff>
    private let retention: Double
    private let now: @Sendable () -> Double
    /// Whether anything was ever revoked: until then, checks need no lookup at all.
    private let hasEntries = SharedFlag()

    private final class SharedFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private struct Cutoff: Sendable {
        var notBefore: Double
        var forgetAfter: Double
    }

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - capacity: The most entries of each kind kept; expired entries go first (default 100,000).
    ///   - retention: How long a subject's "not before" moment is kept, in seconds; it must be at least the
    ///     longest session lifetime (default 30 days plus a day).
    ///   - now: The clock, in seconds since 1970.
    public init(capacity: Int = 100_000, retention: Double = 31 * 24 * 60 * 60, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        revokedTokens = StripedDictionary(capacity: capacity)
        subjectCutoffs = StripedDictionary(capacity: capacity)
        self.retention = retention
        self.now = now
    }

    public func isRevoked(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool {
        isRevokedNow(tokenID: tokenID, subject: subject, issuedAt: issuedAt)
    }

    /// Answers from memory, always.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: Whether the token is revoked (never `nil`).
    public func isRevokedWithoutWaiting(tokenID: String, subject: String, issuedAt: Date) -> Bool? {
        isRevokedNow(tokenID: tokenID, subject: subject, issuedAt: issuedAt)
    }

    private func isRevokedNow(tokenID: String, subject: String, issuedAt: Date) -> Bool {
        guard hasEntries.value.load(ordering: .acquiring) else { return false }
        if let expiry = revokedTokens[tokenID], expiry > now() { return true }
        if let cutoff = subjectCutoffs[subject], issuedAt.timeIntervalSince1970 < cutoff.notBefore { return true }
        return false
    }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let current = now()
        hasEntries.value.store(true, ordering: .releasing)
        revokedTokens.insert(expiresAt.timeIntervalSince1970, for: tokenID, isStale: { $0 <= current })
    }

    public func revokeAll(subject: String, issuedBefore: Date) async throws {
        let current = now()
        // Token `iat`s are whole seconds: every token of the moment's second goes too (a sign-in in that same
        // second after the revocation is revoked as well, the safe side of the ambiguity).
        let notBefore = issuedBefore.timeIntervalSince1970.rounded(.down) + 1
        hasEntries.value.store(true, ordering: .releasing)
        subjectCutoffs.update(subject, isStale: { $0.forgetAfter <= current }) { existing in
            Cutoff(notBefore: max(existing?.notBefore ?? notBefore, notBefore), forgetAfter: current + retention)
        }
    }
}
