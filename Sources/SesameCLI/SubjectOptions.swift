import ArgumentParser
import Foundation
import Logging
import Sesame

/// How a user's sessions are named in the session store: the app's `SessionSubject.subjectIdentifier` for that
/// user, as a template.
struct SubjectOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The app's session subject for a user, with {id} and {email} (default: Sesame's identifier of `.user(userID:)`).",
        valueName: "template"))
    var subject: String = "user:userID:{id}"

    func validate() throws {
        guard subject.contains("{id}") || subject.contains("{email}") else { throw ValidationError("--subject must contain {id} or {email}") }
    }

    /// The subject identifier of `user`.
    func subjectID(of user: AuthUser) throws -> String {
        if subject.contains("{email}"), user.email == nil { throw CommandFailure(description: "user \(user.id) has no email address for --subject \(subject)") }
        return subject.replacingOccurrences(of: "{id}", with: user.id).replacingOccurrences(of: "{email}", with: user.email ?? "")
    }
}

extension CommandStores {
    /// The user an argument names: an ID, or an email address.
    func user(_ wanted: String) async throws -> AuthUser {
        let match = wanted.contains("@") ? try await accounts.user(email: wanted.lowercased()) : try await accounts.user(id: wanted)
        guard let match else { throw CommandFailure(description: "no user \(wanted)") }
        return match
    }

    /// The audit log of the command's changes: standard error (so that `--json` output stays clean) and the trail
    /// the app keeps in its session store.
    var audit: AuditLog {
        AuditLog([LoggingAuditSink(logger: Logger(label: "sesame.audit") { StreamLogHandler.standardError(label: $0) }), AuditTrail(store: sessions)])
    }

    /// Runs `body` as the command line's own "request" in the audit log.
    func audited<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await AuditRequest(clientAddress: nil, userAgent: "sesame-cli").run(body)
    }

    /// Ends every session of a subject: stored sessions, native apps' refresh-token families and, with a shared
    /// revocation store, every stateless token issued until now.
    ///
    /// - Returns: How many stored sessions and families ended, and whether stateless tokens were revoked.
    func endAllSessions(subjectID: String) async throws -> (ended: Int, statelessRevoked: Bool) {
        let ended = try await StoredSessionDirectory(store: sessions, audit: audit).endAll(subjectID: subjectID)
        guard let revocations else { return (ended, false) }
        try await revocations.revokeAll(subject: subjectID, issuedBefore: Date())
        return (ended, true)
    }
}
