import Foundation
import Sesame

/// A `RevocationStore` in Redis, with the semantics of `MemoryRevocationStore` but shared by
/// every process and kept across restarts (as far as the server persists).
///
/// Revoked token IDs are keys `{prefix}j:{jti}` that expire with their tokens; a subject's "not before"
/// moment is a key `{prefix}n:{subject}` holding whole Unix seconds, kept for `retention` after its last
/// change. ``isRevoked(tokenID:subject:issuedAt:)`` is one `MGET`.
public struct RedisRevocationStore: RevocationStore {
    private let client: RedisClient
    private let tokenPrefix: String
    private let subjectPrefix: String
    private let retention: Int
    private let now: @Sendable () -> Date

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - client: The Redis client (it may be shared with other stores).
    ///   - keyPrefix: Put before every key the store uses (default `sesame:`).
    ///   - retention: How long a subject's "not before" moment is kept, in seconds; it must be at least the
    ///     longest session lifetime (default 30 days plus a day).
    ///   - now: The clock.
    public init(
        client: RedisClient, keyPrefix: String = "sesame:", retention: Double = 31 * 24 * 60 * 60,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        tokenPrefix = keyPrefix + "j:"
        subjectPrefix = keyPrefix + "n:"
        self.retention = max(1, Int(retention.rounded(.up)))
        self.now = now
    }

    /// Whether a token is revoked, by its ID or by its subject's "not before" moment (one `MGET`).
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: `true` if the token must not be accepted.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    /// Asks the server (one round trip).
    public func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> {
        .catching { try await lookUp(tokenID: tokenID, subject: subject, issuedAt: issuedAt) }
    }

    private func lookUp(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool {
        let reply = try await client.send(RedisCommand("MGET", tokenPrefix + tokenID, subjectPrefix + subject))
        guard case .array(let values) = reply, values.count == 2 else {
            throw SessionStoreError.invalidResponse("MGET answered \(reply)")
        }
        if !values[0].isNull { return true }
        if values[1].isNull { return false }
        guard let notBefore = values[1].integer else {
            throw SessionStoreError.invalidResponse("a subject's revocation moment is not a number")
        }
        return issuedAt.timeIntervalSince1970 < Double(notBefore)
    }

    /// Revokes one token until it would have expired anyway (nothing to do for an expired token).
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - expiresAt: The token's `exp`; Redis forgets the entry then.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let expiry = RedisSessionStore.milliseconds(expiresAt)
        // A token that has expired needs no deny-list entry (and Redis refuses expiry times in the past).
        guard expiry > RedisSessionStore.milliseconds(now()) else { return }
        let reply = try await client.send(RedisCommand("SET", tokenPrefix + tokenID, "1", "PXAT", String(expiry)))
        guard case .simpleString("OK") = reply else { throw SessionStoreError.invalidResponse("SET answered \(reply)") }
    }

    /// Revokes every token of a subject issued before a moment or within its second; a later moment than
    /// the stored one replaces it, an earlier one does not.
    ///
    /// - Parameters:
    ///   - subject: The tokens' `sub`.
    ///   - issuedBefore: Tokens whose `iat` falls before this moment, or in the same second, are revoked.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func revokeAll(subject: String, issuedBefore: Date) async throws {
        // Token `iat`s are whole seconds: every token of the moment's second goes too.
        let notBefore = Int64(issuedBefore.timeIntervalSince1970.rounded(.down)) + 1
        _ = try await client.evaluate(
            Self.revokeAllScript, keys: [subjectPrefix + subject], arguments: [String(notBefore), String(retention)])
    }

    /// Raises a subject's "not before" moment (never lowers it) and keeps it for the retention period.
    ///
    /// KEYS: subject key. ARGV: not before (Unix seconds), retention (seconds).
    static let revokeAllScript = RedisScript("""
        local notBefore = tonumber(ARGV[1])
        local current = tonumber(redis.call('GET', KEYS[1]))
        if current and current > notBefore then notBefore = current end
        redis.call('SET', KEYS[1], string.format('%d', notBefore), 'EX', ARGV[2])
        return notBefore
        """)
}
