import Foundation

/// The store-backed sessions of a subject, for operators and tools that do not know the app's session types: list
/// them, end one, end all (with the subject's native-app refresh-token families).
///
/// `StoredSessions` offers the same to the app itself, typed; this is what the `sesame sessions` command uses.
public struct StoredSessionDirectory: Sendable {
    /// A live stored session, as an operator sees it (never its cookie or store key).
    public struct Entry: Sendable, Equatable {
        /// The session's public ID (``AuthSession/id``).
        public let id: String
        /// When its holder signed in.
        public let signedInAt: Date
        /// When it was last written (sliding expiry and data changes; reads do not write).
        public let lastWrittenAt: Date
        /// When it ends.
        public let expiresAt: Date
    }

    /// Where the sessions live.
    public let store: any SessionStore
    /// Where ended sessions are recorded.
    public let audit: AuditLog

    /// Creates a directory.
    ///
    /// - Parameters:
    ///   - store: The app's session store.
    ///   - audit: Where `session_revoked` is recorded (default: swift-log).
    public init(store: any SessionStore, audit: AuditLog = AuditLog()) {
        self.store = store
        self.audit = audit
    }

    /// A subject's live signed-in sessions, most recently signed in first.
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Returns: The sessions.
    /// - Throws: When the store cannot be reached.
    public func sessions(subjectID: String) async throws -> [Entry] {
        try await store.listGroup(subjectID).compactMap { record -> Entry? in
            guard let value = try? StoredSessionValue<Opaque>(decoding: record.value), value.subjectID == subjectID else { return nil }
            return Entry(
                id: StoredSessions<Opaque.Subject, Opaque>.sessionID(ofKey: record.key),
                signedInAt: Date(timeIntervalSince1970: value.authenticatedAt ?? value.createdAt),
                lastWrittenAt: Date(timeIntervalSince1970: value.touchedAt), expiresAt: record.expiresAt)
        }.sorted { $0.signedInAt > $1.signedInAt }
    }

    /// Ends one of a subject's sessions.
    ///
    /// - Parameters:
    ///   - id: The session's public ID.
    ///   - subjectID: The subject it must belong to.
    /// - Returns: `false` when the subject has no such session.
    /// - Throws: When the store cannot be reached.
    @discardableResult
    public func end(sessionID id: String, subjectID: String) async throws -> Bool {
        guard id.utf8.count == 32 else { return false }
        var ended = false
        for record in try await store.listGroup(subjectID) where StoredSessions<Opaque.Subject, Opaque>.sessionID(ofKey: record.key) == id {
            try await store.delete(record.key)
            ended = true
        }
        if ended { await audit.record(.sessionRevoked, subjectID: subjectID, sessionID: id) }
        return ended
    }

    /// Ends every stored session of a subject and its native apps' refresh-token families (their access tokens
    /// end with a revocation store's `revokeAll`, which the caller runs when the app has one).
    ///
    /// - Parameter subjectID: The subject.
    /// - Returns: How many sessions and families ended.
    /// - Throws: When the store cannot be reached.
    @discardableResult
    public func endAll(subjectID: String) async throws -> Int {
        let ended = try await store.deleteGroup(subjectID) + store.deleteGroup(RefreshTokenFamily.group(subjectID: subjectID))
        await audit.record(.sessionRevoked, subjectID: subjectID, detail: "all")
        return ended
    }

    /// The session value's data, left undecoded.
    struct Opaque: Codable, Sendable, Equatable {
        enum Subject: SessionSubject { case none }
    }
}
