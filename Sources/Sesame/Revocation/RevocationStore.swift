import Foundation

/// Where stateless session tokens are revoked before they expire.
///
/// Two mechanisms: a per-subject "not before" moment, which revokes every token of a subject issued before
/// it ("sign out everywhere"), and a deny-list of token IDs (`jti`), which revokes one token ("sign out").
/// Implementations must be safe to call concurrently; a store that cannot answer throws, and Sesame then
/// rejects the token (fail closed).
public protocol RevocationStore: Sendable {
    /// Whether a token is revoked, by its ID or by its subject's "not before" moment: ``Eventual/now(_:)`` when
    /// the store answers from memory (then integrations built on futures, Vapor's, resolve a session without
    /// starting a task), ``Eventual/later(_:)`` when it must ask a server.
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: `true` if the token must not be accepted; a failure when the store cannot tell (the token is
    ///   then refused: fail closed).
    func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>>

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
    /// Whether a token is revoked, waiting for the store's answer (``revocationStatus(tokenID:subject:issuedAt:)``).
    ///
    /// - Parameters:
    ///   - tokenID: The token's `jti`.
    ///   - subject: The token's `sub`.
    ///   - issuedAt: The token's `iat`.
    /// - Returns: `true` if the token must not be accepted.
    /// - Throws: The store's error when it cannot tell.
    public func isRevoked(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool {
        try await revocationStatus(tokenID: tokenID, subject: subject, issuedAt: issuedAt).value.get()
    }
}
