import Foundation

/// A verified session: the app's typed subject and the token's registered claims.
public struct Session<Subject: SessionSubject>: Sendable {
    /// Whom the session is about, as the app's enum; `switch` over it.
    public let subject: Subject
    /// The token's `sub`: the subject's stable identifier.
    public let subjectID: String
    /// The token's `jti`: this session's unique ID (used to revoke just this session).
    public let id: String
    /// When the session was issued.
    public let issuedAt: Date
    /// When the session expires.
    public let expiresAt: Date
    /// The token's `iss`, if it has one.
    public let issuer: String?
    /// The token's `aud`.
    public let audience: [String]
}
