import Foundation
import Sesame

/// A `RevocationStore` in SQLite, with `MemoryRevocationStore`'s semantics: a `jti` deny-list kept until
/// each token would have expired, and a per-subject "not before" in whole seconds.
public struct SQLiteRevocationStore: RevocationStore {
    /// The database.
    public let storage: SQLiteStorage
    /// How long a subject's cutoff is kept (default 31 days: longer than any session).
    public let retention: TimeInterval
    private let now: @Sendable () -> Date

    /// Creates a store over a database.
    ///
    /// - Parameters:
    ///   - storage: The database (shared with the other SQLite stores).
    ///   - retention: How long a subject's cutoff is kept.
    ///   - now: The clock.
    public init(storage: SQLiteStorage, retention: TimeInterval = 31 * 24 * 60 * 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.retention = retention
        self.now = now
    }

    /// Asks the server (one round trip).
    public func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> {
        .catching { try await lookUp(tokenID: tokenID, subject: subject, issuedAt: issuedAt) }
    }

    private func lookUp(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool {
        let rows = try await storage.rows(
            """
            SELECT EXISTS (SELECT 1 FROM sesame_revoked_tokens WHERE jti = ?1 AND expires_at > ?3)
                OR EXISTS (SELECT 1 FROM sesame_subject_cutoffs WHERE subject = ?2 AND not_before > ?4) AS revoked
            """,
            [.text(tokenID), .text(subject), .float(now().timeIntervalSince1970), .float(issuedAt.timeIntervalSince1970)])
        return rows.first?.column("revoked")?.integer == 1
    }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        _ = try await storage.rows(
            "INSERT INTO sesame_revoked_tokens (jti, expires_at) VALUES (?1, ?2) ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
            [.text(tokenID), .float(expiresAt.timeIntervalSince1970)])
    }

    public func revokeAll(subject: String, issuedBefore: Date) async throws {
        // Token `iat`s are whole seconds: every token of that second goes too (the safe side).
        let notBefore = issuedBefore.timeIntervalSince1970.rounded(.down) + 1
        _ = try await storage.rows(
            """
            INSERT INTO sesame_subject_cutoffs (subject, not_before, forget_after) VALUES (?1, ?2, ?3)
            ON CONFLICT (subject) DO UPDATE SET not_before = max(not_before, excluded.not_before), forget_after = excluded.forget_after
            """,
            [.text(subject), .float(notBefore), .float(now().timeIntervalSince1970 + retention)])
    }
}
