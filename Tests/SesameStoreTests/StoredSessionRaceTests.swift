import Foundation
import HTTPTypes
import Sesame
import Testing

/// Store-backed sessions on every store: a request that began before a sign-out never brings the session back
/// by saving data or moving a sliding expiry afterwards, and concurrent sign-ins of one user are all listed.
@Suite(.timeLimit(.minutes(3))) struct StoredSessionRaceTests {
    enum Subject: SessionSubject, Equatable {
        case user(id: String)
    }

    struct Notes: Codable, Sendable, Equatable {
        var count: Int
    }

    static func sessions(_ store: any SessionStore) -> StoredSessions<Subject, Notes> {
        // A sliding expiry that moves on every request (refresh interval 0), so every commit writes.
        StoredSessions(
            store: store, signer: SessionCookieSigner(secrets: [Array(repeating: 3, count: 32)]),
            configuration: StoredSessionConfiguration(cookie: SessionCookie(name: "sid"), idleTimeout: 3_600, refreshInterval: 0))
    }

    /// A new user signed in on the store: the sessions, the subject, and a request carrying the session's cookie.
    static func signedIn(_ store: any SessionStore) async throws -> (StoredSessions<Subject, Notes>, Subject, HTTPRequest) {
        let sessions = Self.sessions(store)
        let subject = Subject.user(id: UUID().uuidString)
        let setCookie = try #require(try await sessions.signIn(subject, request: nil, redirect: "/").headerFields[.setCookie])
        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        request.headerFields[.cookie] = String(setCookie.prefix { $0 != ";" })
        return (sessions, subject, request)
    }

    /// The session the request carries is gone: it resolves to nothing and its subject lists no session.
    static func expectGone(_ sessions: StoredSessions<Subject, Notes>, _ subject: Subject, _ request: HTTPRequest) async throws {
        #expect(await sessions.resolve(request).session == nil)
        #expect(try await sessions.sessions(subjectID: subject.subjectIdentifier).isEmpty)
    }

    /// Requests resolved before "sign out everywhere" and committed after it (half writing data, half only
    /// sliding the expiry) write nothing and set no cookie (a sign-in that ended the session may have set a new
    /// one meanwhile); the session stays gone.
    @Test(arguments: StoreKind.allCases)
    func writesAfterSignOutEverywhereDoNotResurrectTheSession(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let (sessions, subject, request) = try await Self.signedIn(fixture.sessions)
            var inFlight: [SessionResolution<Subject>] = []
            for _ in 0..<20 {
                let resolution = await sessions.resolve(request)
                #expect(resolution.session?.subject == subject)
                inFlight.append(resolution)
            }
            #expect(try await sessions.terminateAll(subjectID: subject.subjectIdentifier) == 1)
            for (index, resolution) in inFlight.enumerated() {
                if index.isMultiple(of: 2) { try SessionScope(resolution).run { try sessions.data.set(Notes(count: index)) } }
                let fields = try await sessions.commit(resolution).value.get()
                #expect(fields.isEmpty)
            }
            try await Self.expectGone(sessions, subject, request)
        }
    }

    /// The same race, truly concurrent: 40 requests writing and sliding while the session signs out. Whatever
    /// the interleaving, the session is gone afterwards.
    @Test(arguments: StoreKind.allCases)
    func concurrentWritesRacingASignOutLeaveTheSessionGone(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let (sessions, subject, request) = try await Self.signedIn(fixture.sessions)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for index in 0..<40 {
                    tasks.addTask {
                        let resolution = await sessions.resolve(request)
                        if index.isMultiple(of: 2) { try? SessionScope(resolution).run { try sessions.data.set(Notes(count: index)) } }
                        _ = try await sessions.commit(resolution).value.get()
                    }
                    if index == 20 { tasks.addTask { _ = try await sessions.signOut(request, redirect: "/") } }
                }
                try await tasks.waitForAll()
            }
            try await Self.expectGone(sessions, subject, request)
        }
    }

    /// 50 concurrent sign-ins of one user: 50 sessions, every one listed for the user.
    @Test(arguments: StoreKind.allCases)
    func concurrentSignInsAreAllListed(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let sessions = Self.sessions(fixture.sessions)
            let subject = Subject.user(id: UUID().uuidString)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for _ in 0..<50 { tasks.addTask { _ = try await sessions.signIn(subject, request: nil, redirect: "/") } }
                try await tasks.waitForAll()
            }
            #expect(try await sessions.sessions(subjectID: subject.subjectIdentifier).count == 50)
            #expect(try await sessions.terminateAll(subjectID: subject.subjectIdentifier) == 50)
        }
    }
}
