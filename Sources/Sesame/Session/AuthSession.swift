import Foundation

/// A verified session: the app's typed subject and the token's registered claims.
///
/// A session is immutable and its parts live in one shared object, so passing it around (into the request
/// context, the task-local, the cache) costs a single reference count, whatever the subject holds.
public struct AuthSession<Subject: SessionSubject>: Sendable {
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let subject: Subject
        @usableFromInline let subjectID: String
        @usableFromInline let id: String
        @usableFromInline let issuedAt: Date
        @usableFromInline let expiresAt: Date
        @usableFromInline let issuer: String?
        @usableFromInline let audience: [String]

        init(subject: Subject, subjectID: String, id: String, issuedAt: Date, expiresAt: Date, issuer: String?, audience: [String]) {
            self.subject = subject
            self.subjectID = subjectID
            self.id = id
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.issuer = issuer
            self.audience = audience
        }
    }

    @usableFromInline let storage: Storage

    @inlinable
    init(storage: Storage) {
        self.storage = storage
    }

    init(subject: Subject, subjectID: String, id: String, issuedAt: Date, expiresAt: Date, issuer: String?, audience: [String]) {
        storage = Storage(subject: subject, subjectID: subjectID, id: id, issuedAt: issuedAt, expiresAt: expiresAt, issuer: issuer, audience: audience)
    }

    /// Whom the session is about, as the app's enum; `switch` over it.
    @inlinable public var subject: Subject { storage.subject }
    /// The token's `sub`: the subject's stable identifier.
    @inlinable public var subjectID: String { storage.subjectID }
    /// The token's `jti`: this session's unique ID (used to revoke just this session).
    @inlinable public var id: String { storage.id }
    /// When the session was issued.
    @inlinable public var issuedAt: Date { storage.issuedAt }
    /// When the session expires.
    @inlinable public var expiresAt: Date { storage.expiresAt }
    /// The token's `iss`, if it has one.
    @inlinable public var issuer: String? { storage.issuer }
    /// The token's `aud`.
    @inlinable public var audience: [String] { storage.audience }
}
