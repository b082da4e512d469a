import Foundation

/// Where stateless session tokens are revoked before they expire.
///
/// Two mechanisms: a per-subject "not before" moment, which revokes every token of a subject issued before
/// it ("sign out everywhere"), and a deny-list of token IDs (`jti`), which revokes one token ("sign out").
/// Implementations must be safe to call concurrently; a store that cannot answer throws, and Sesame then
/// rejects the token (fail closed).
public protocol RevocationStore: Sendable {
    /// Whether a token is revoked, by its ID or by its subject's "not before" moment.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: `true` if the token must not be accepted.
    func isRevoked(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool

    /// Whether a token is revoked, answered at once from memory, or `nil` when only ``isRevoked(tokenID:subject:issuedAt:)``
    /// can tell (the default: a store that asks a server).
    ///
    /// A store that can answer here lets integrations that are not async at heart (Vapor's middleware chain)
    /// resolve sessions without starting a task.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: `true` if the token must not be accepted, `false` if it may be, `nil` if the store must be asked.
    func isRevokedWithoutWaiting(tokenID: String, subject: String, issuedAt: Date) -> Bool?

    /// Revokes one token until it would have expired anyway.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - expiresAt: The token's `exp`; the entry may be forgotten after it.
    func revoke(tokenID: String, expiresAt: Date) async throws

    /// Revokes every token of a subject issued up to (and within the same second as) a moment.
    ///
    /// - Parameters:
    ///   - subject: The tokens' `sub`.
    ///   - issuedBefore: Tokens whose `iat` falls before this moment, or in the same second, are revoked.
    func revokeAll(subject: String, issuedBefore: Date) async throws
}

extension RevocationStore {
    /// `nil`: the store must be asked with ``isRevoked(tokenID:subject:issuedAt:)``.
    public func isRevokedWithoutWaiting(tokenID: String, subject: String, issuedAt: Date) -> Bool? { nil }
}
