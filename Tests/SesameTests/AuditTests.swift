import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Sesame
import SesameTestSupport

/// The audit log: which events the components record, with whom, which session and where from, and what an
/// event never holds.
@Suite struct AuditTests {
    enum AppSession: SessionSubject { case user(id: String) }

    /// Collects events.
    final class Recorder: Sendable {
        private let events = Mutex<[AuditEvent]>([])
        var all: [AuditEvent] { events.withLock { $0 } }
        var kinds: [AuditEvent.Kind] { all.map(\.kind) }
        var log: AuditLog { AuditLog([ClosureAuditSink { event in self.events.withLock { $0.append(event) } }], now: { Date(timeIntervalSince1970: 1_800_000_000) }) }
    }

    struct Harness {
        let handler: AuthHandler
        let accounts: Accounts
        let sessions: StoredSessions<AppSession, Int>
        let recorder: Recorder
        let sessionStore: MemorySessionStore
    }

    /// A provider whose callback signs in the identity its query names (`?id=…&email=…`), or refuses without one.
    static func provider() -> CustomProvider {
        CustomProvider(type: "oauth", displayName: "Test") { _, _ in AuthResponse(HTTPResponse(status: .noContent)) } callback: { request, _ in
            guard let id = request.query["id"] else { throw AuthError.invalidRequest }
            return .signedIn(ProviderIdentity(claims: [:], profile: Profile(id: id, email: request.query["email"], emailVerified: true, name: nil)))
        }
    }

    static func harness() throws -> Harness {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let recorder = Recorder()
        let sessionStore = MemorySessionStore()
        let accounts = Accounts(store: MemoryAccountStore(), keys: keys, audit: recorder.log)
        let sessions = StoredSessions<AppSession, Int>(
            store: sessionStore, signer: SessionCookieSigner(keys: keys), configuration: StoredSessionConfiguration(metrics: .disabled, audit: recorder.log))
        let handler = AuthHandler(
            providers: ["github": provider(), "gitlab": provider()],
            configuration: AuthConfiguration(
                baseURL: "https://app.example", trustedProxies: TrustedProxies(["10.0.0.0/8"]), metrics: .disabled, tracer: nil, audit: recorder.log),
            keys: keys, accounts: accounts, sessions: sessions,
            subject: { .user(id: $0.id) }, userID: { if case .user(let id) = $0 { id } else { nil } })
        return Harness(handler: handler, accounts: accounts, sessions: sessions, recorder: recorder, sessionStore: sessionStore)
    }

    /// A browser request from 203.0.113.9 through the trusted proxy 10.0.0.1.
    static func request(_ path: String, cookie: String? = nil, userAgent: String = "Mozilla/5.0 (X11; Linux x86_64)") -> AuthRequest {
        var head = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: path)
        if let cookie { head.headerFields[.cookie] = cookie }
        head.headerFields[HTTPField.Name("Sec-Fetch-Mode")!] = "navigate"
        head.headerFields[.userAgent] = userAgent
        head.headerFields[HTTPField.Name("X-Forwarded-For")!] = "203.0.113.9"
        return AuthRequest(head: head, clientAddress: "10.0.0.1")
    }

    static func sessionCookie(_ response: AuthResponse) throws -> String {
        let field = try #require(response.head.headerFields[values: .setCookie].first { $0.hasPrefix("__Host-sesame-sid=") && !$0.hasPrefix("__Host-sesame-sid=;") })
        return String(field.prefix { $0 != ";" })
    }

    // MARK: Sign-in through the handler

    @Test func aSignInNamesTheUserTheSessionAndTheClient() async throws {
        let harness = try Self.harness()
        let response = await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com"))
        let cookie = try Self.sessionCookie(response)
        let event = try #require(harness.recorder.all.last)
        #expect(harness.recorder.kinds == [.signIn])
        let user = try #require(try await harness.accounts.store.user(email: "ada@example.com"))
        // The user is the account store's user, not the provider's account ID.
        #expect(event.userID == user.id && event.userID != "1")
        #expect(event.subjectID == AppSession.user(id: user.id).subjectIdentifier)
        #expect(event.provider == "github")
        #expect(event.clientAddress == "203.0.113.9" && event.userAgent == "Mozilla/5.0 (X11; Linux x86_64)")
        #expect(event.time == Date(timeIntervalSince1970: 1_800_000_000))
        // The session is the one the browser now holds, by its public ID.
        let session = try #require(await harness.sessions.resolve(HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/", headerFields: [.cookie: cookie])).session)
        #expect(event.sessionID == session.id)
        #expect(!cookie.contains(session.id))
    }

    @Test func linkingAnotherProviderIsRecorded() async throws {
        let harness = try Self.harness()
        let cookie = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com")))
        _ = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/gitlab/callback?id=7", cookie: cookie)))
        #expect(harness.recorder.kinds == [.signIn, .accountLinked, .signIn])
        let linked = harness.recorder.all[1]
        #expect(linked.provider == "gitlab" && linked.userID == harness.recorder.all[0].userID && linked.clientAddress == "203.0.113.9")
    }

    @Test func aRefusedSignInIsRecordedWithItsCode() async throws {
        let harness = try Self.harness()
        let response = await harness.handler.handle(Self.request("/auth/github/callback"))
        #expect(response.head.status.kind == .redirection)
        let event = try #require(harness.recorder.all.first)
        #expect(harness.recorder.kinds == [.signInFailed])
        #expect(event.detail == "invalid_request" && event.provider == "github" && event.userID == nil)
        #expect(event.clientAddress == "203.0.113.9")
    }

    @Test func userAgentsAreCleanedAndBounded() async throws {
        let harness = try Self.harness()
        let forged = "curl/8\r\nINFO forged line \u{7F}é" + String(repeating: "x", count: 1000)
        _ = await harness.handler.handle(Self.request("/auth/github/callback?id=2&email=bo@example.com", userAgent: forged))
        let agent = try #require(harness.recorder.all.last?.userAgent)
        #expect(agent.utf8.count == 256)
        // HTTPTypes turned the line break and DEL into spaces; the two bytes of é are `?`.
        #expect(agent.hasPrefix("curl/8  INFO forged line  ??x"))
        // Events made elsewhere are cleaned alike.
        #expect(AuditEvent(kind: .signIn, time: Date(), userAgent: "a\u{1}b\u{7F}c\r\nd").userAgent == "a?b?c??d")
        #expect(agent.utf8.allSatisfy { (0x20...0x7E).contains($0) })
    }

    // MARK: Sessions

    @Test func signOutAndEndingSessionsAreRecorded() async throws {
        let harness = try Self.harness()
        let first = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com")))
        _ = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com")))
        let userID = try #require(harness.recorder.all.first?.subjectID)
        let head = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/signout", headerFields: [.cookie: first])
        let firstSession = try #require(await harness.sessions.resolve(head).session)

        _ = try await AuditRequest(head, clientAddress: "198.51.100.4").run { try await harness.sessions.signOut(head, redirect: "/") }
        let signOut = try #require(harness.recorder.all.last)
        #expect(signOut.kind == .signOut && signOut.subjectID == userID && signOut.userID == nil && signOut.sessionID == firstSession.id && signOut.clientAddress == "198.51.100.4")

        // Signing out without a session records nothing.
        let count = harness.recorder.all.count
        _ = try await harness.sessions.signOut(HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/signout"), redirect: "/")
        #expect(harness.recorder.all.count == count)

        let other = try #require(try await harness.sessions.sessions(subjectID: userID).first)
        try await harness.sessions.terminate(other)
        #expect(harness.recorder.all.last?.kind == .sessionRevoked && harness.recorder.all.last?.sessionID == other.id)
        try await harness.sessions.terminateAll(subjectID: userID)
        #expect(harness.recorder.all.last?.kind == .sessionRevoked && harness.recorder.all.last?.detail == "all")
    }

    /// The directory the command line uses: the same sessions `StoredSessions` lists, ended by public ID or all at
    /// once (with the subject's refresh-token families), recorded.
    @Test func theSessionDirectoryListsAndEndsSessions() async throws {
        let harness = try Self.harness()
        let first = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com")))
        _ = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com")))
        let subjectID = try #require(harness.recorder.all.first?.subjectID)
        let directory = StoredSessionDirectory(store: harness.sessionStore, audit: harness.recorder.log)
        let listed = try await directory.sessions(subjectID: subjectID)
        #expect(listed.map(\.id) == (try await harness.sessions.sessions(subjectID: subjectID)).map(\.id))
        #expect(listed.count == 2 && listed.allSatisfy { $0.id.count == 32 && $0.expiresAt > $0.signedInAt })

        // Another subject's session, or a malformed ID, ends nothing.
        #expect(try await directory.end(sessionID: listed[0].id, subjectID: "user:id:someone-else") == false)
        #expect(try await directory.end(sessionID: "short", subjectID: subjectID) == false)
        let firstID = try #require(await harness.sessions.resolve(HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/", headerFields: [.cookie: first])).session?.id)
        #expect(try await directory.end(sessionID: firstID, subjectID: subjectID))
        #expect(await harness.sessions.resolve(HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/", headerFields: [.cookie: first])).session == nil)
        #expect(harness.recorder.all.last?.kind == .sessionRevoked && harness.recorder.all.last?.sessionID == firstID)

        // A native app's refresh-token family ends with the rest.
        try await harness.sessionStore.create(SessionRecord(key: "family", group: "native:" + subjectID, value: [1], expiresAt: Date().addingTimeInterval(600)))
        #expect(try await directory.endAll(subjectID: subjectID) == 2)
        #expect(try await directory.sessions(subjectID: subjectID).isEmpty)
        #expect(try await harness.sessionStore.get("family") == nil)
        #expect(harness.recorder.all.last?.detail == "all")
    }

    // MARK: Accounts

    @Test func unlinkingAndDeletingAreRecordedOnlyWhenTheyHappen() async throws {
        let harness = try Self.harness()
        let cookie = try Self.sessionCookie(await harness.handler.handle(Self.request("/auth/github/callback?id=1&email=ada@example.com")))
        _ = await harness.handler.handle(Self.request("/auth/gitlab/callback?id=7", cookie: cookie))
        let userID = try #require(harness.recorder.all.first?.userID)
        let gitlab = try #require(try await harness.accounts.linkedAccounts(userID: userID).first { $0.key.provider == "gitlab" })

        // Refused: not the user's account. Nothing recorded.
        let before = harness.recorder.all.count
        await #expect(throws: AuthError.self) { try await harness.accounts.unlink(gitlab.key, userID: "someone-else") }
        #expect(harness.recorder.all.count == before)

        try await harness.accounts.unlink(gitlab.key, userID: userID)
        #expect(harness.recorder.all.last?.kind == .accountUnlinked && harness.recorder.all.last?.provider == "gitlab")

        #expect(try await harness.accounts.deleteUser(id: userID) { try await harness.sessions.endAllSessions(subjectID: AppSession.user(id: $0).subjectIdentifier) })
        #expect(Array(harness.recorder.kinds.suffix(2)) == [.sessionRevoked, .userDeleted])
        // A second deletion finds nobody and records nothing more.
        let count = harness.recorder.all.count
        #expect(try await harness.accounts.deleteUser(id: userID) { _ in } == false)
        #expect(harness.recorder.all.count == count)
    }

    @Test func passwordChangesAndSecondFactorsAreRecorded() async throws {
        let recorder = Recorder()
        let store = MemoryAccountStore()
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let passwords = PasswordAccounts(
            store: store, hasher: ScryptPasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)),
            configuration: PasswordAccounts.Configuration(requiresVerifiedEmail: false), audit: recorder.log)
        let signUp = try await passwords.signUp(email: "cy@example.com", password: "correct horse battery staple", client: nil)
        guard case .created(let user, _) = signUp else { Issue.record("no user"); return }

        // A wrong password names the account in the trail (not in the answer).
        let request = AuditRequest(clientAddress: "192.0.2.1", userAgent: "test")
        await #expect(throws: AuthError.invalidCredentials) {
            try await request.run { try await passwords.signIn(email: "cy@example.com", password: "wrong password here", client: nil) }
        }
        #expect(request.signedIn.userID == user.id)
        #expect(recorder.all.isEmpty)

        await #expect(throws: AuthError.self) { try await passwords.changePassword(userID: user.id, current: "wrong password here", new: "another long passphrase") }
        #expect(recorder.all.isEmpty)
        try await request.run { try await passwords.changePassword(userID: user.id, current: "correct horse battery staple", new: "another long passphrase") }
        let changed = try #require(recorder.all.last)
        #expect(changed.kind == .passwordChanged && changed.userID == user.id && changed.detail == "change" && changed.clientAddress == "192.0.2.1")
        try await passwords.setPassword(userID: user.id, password: "yet another long passphrase")
        #expect(recorder.all.last?.detail == "set")

        let factors = SecondFactors(store: store, keys: keys, issuer: "Test", audit: recorder.log)
        let pending = try factors.beginEnrolment(userID: user.id, account: "cy@example.com")
        let factor = TOTPFactor(secret: try #require(Base32Text.decode(pending.secretText)))
        await #expect(throws: AuthError.invalidCode) { try await factors.confirmEnrolment(userID: user.id, sealedSecret: pending.sealedSecret, code: "000000") }
        #expect(recorder.kinds.filter { $0 == .factorEnrolled }.isEmpty)
        _ = try await factors.confirmEnrolment(userID: user.id, sealedSecret: pending.sealedSecret, code: factor.code(at: Date()))
        #expect(recorder.all.last?.kind == .factorEnrolled && recorder.all.last?.detail == "totp")
        #expect(try await factors.disable(userID: user.id))
        #expect(recorder.all.last?.kind == .factorRemoved)
        #expect(try await factors.disable(userID: user.id) == false)
        #expect(recorder.kinds.filter { $0 == .factorRemoved }.count == 1)
    }

    // MARK: The logging sink and the trail

    @Test func theLogSinkWritesOneLineWithTheFields() async throws {
        let capture = LogCapture()
        let log = AuditLog([LoggingAuditSink(logger: capture.logger())])
        await AuditRequest(clientAddress: "192.0.2.7", userAgent: "agent\nforged").run {
            await log.record(.sessionRevoked, userID: "u1", sessionID: "s1", detail: "all")
        }
        let line = try #require(capture.lines.first)
        #expect(capture.lines.count == 1)
        #expect(line.hasPrefix("notice Security event"))
        for field in ["audit.kind=session_revoked", "audit.user=u1", "audit.session=s1", "audit.client=192.0.2.7", "audit.user_agent=agent?forged", "audit.detail=all"] {
            #expect(line.contains(field), "\(field)")
        }
        #expect(!line.contains("\n"))
    }

    @Test func theTrailKeepsEachUsersNewestEvents() async throws {
        let store = MemorySessionStore()
        let trail = AuditTrail(store: store, maximumPerUser: 3)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<5 {
            await trail.record(AuditEvent(kind: index == 2 ? .signInFailed : .signIn, time: start.addingTimeInterval(Double(index)), userID: "u1", sessionID: "s\(index)"))
        }
        await trail.record(AuditEvent(kind: .signIn, time: start, userID: "u2"))
        // Without a user there is no trail to keep it in.
        await trail.record(AuditEvent(kind: .signInFailed, time: start, userID: nil, detail: "invalid_credentials"))

        let events = try await trail.events(for: "u1")
        #expect(events.map(\.sessionID) == ["s4", "s3", "s2"])
        #expect(try await trail.events(for: "u1", kinds: [.signIn]).map(\.sessionID) == ["s4", "s3"])
        #expect(try await trail.events(for: "u1", limit: 1).count == 1)
        #expect(try await trail.events(for: "u2").count == 1)
        #expect(try await trail.forget("u1") == 3)
        #expect(try await trail.events(for: "u1").isEmpty)
        #expect(try await trail.events(for: "u2").count == 1)

        // An event naming a user and a session subject is filed under both; one naming the same ID twice, once.
        await trail.record(AuditEvent(kind: .signIn, time: start, userID: "u3", subjectID: "user:id:u3"))
        await trail.record(AuditEvent(kind: .signOut, time: start, subjectID: "u4", sessionID: "s"))
        await trail.record(AuditEvent(kind: .signIn, time: start, userID: "u4", subjectID: "u4"))
        #expect(try await trail.events(for: "u3").map(\.kind) == [.signIn])
        #expect(try await trail.events(for: "user:id:u3").map(\.kind) == [.signIn])
        #expect(try await trail.events(for: "u4").count == 2)
    }

    @Test func eventsRoundTripThroughTheTrail() async throws {
        let trail = AuditTrail(store: MemorySessionStore())
        let event = AuditEvent(
            kind: .refreshTokenReuse, time: Date(timeIntervalSince1970: 1_800_000_000.25), userID: "u1", subjectID: "user:id:u1", sessionID: "s", clientAddress: "2001:db8::1",
            userAgent: "UA", provider: "app", detail: "d")
        await trail.record(event)
        #expect(try await trail.events(for: "u1") == [event])
        // Every kind has a stable name that reads back.
        for kind in AuditEvent.Kind.allCases { #expect(AuditEvent.Kind(rawValue: kind.rawValue) == kind) }
    }

    @Test func aTrailWhoseStoreFailsLosesTheEventNotTheAction() async throws {
        let capture = LogCapture()
        let trail = AuditTrail(store: FailingSessionStore(), logger: capture.logger())
        await trail.record(AuditEvent(kind: .signIn, time: Date(), userID: "u1"))
        #expect(capture.lines.contains { $0.hasPrefix("error The audit trail could not keep an event") })
        await #expect(throws: (any Error).self) { try await trail.events(for: "u1") }
    }
}

/// A session store that is down.
struct FailingSessionStore: SessionStore {
    struct Down: Error {}

    func get(_ key: String) async throws -> SessionRecord? { throw Down() }
    func create(_ record: SessionRecord) async throws { throw Down() }
    func update(_ record: SessionRecord) async throws -> Bool { throw Down() }
    func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool { throw Down() }
    func delete(_ key: String) async throws { throw Down() }
    func deleteGroup(_ group: String) async throws -> Int { throw Down() }
    func listGroup(_ group: String) async throws -> [SessionRecord] { throw Down() }
}
