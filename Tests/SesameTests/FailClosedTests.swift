import Foundation
import HTTPTypes
import Testing
@testable import Sesame

/// Stateless sessions never claim a sign-out (or a re-sign-in) that left a token valid.
@Suite struct FailClosedTests {
    /// A revocation store that answers checks but cannot record anything (full, read-only, half down).
    struct CannotRecord: RevocationStore {
        struct Refused: Error {}
        func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> { .now(.success(false)) }
        func revoke(tokenID: String, expiresAt: Date) async throws { throw Refused() }
        func revokeAll(subject: String, issuedBefore: Date) async throws { throw Refused() }
    }

    let keys: KeySet
    let revocations = MemoryRevocationStore()
    let sessions: SessionTokens<AppSession>

    init() throws {
        keys = try KeySet(activeKey: JWK.generate(.es256))
        sessions = try SessionTokens<AppSession>(keys: keys, revocations: revocations)
    }

    static func request(token: String) -> HTTPRequest {
        var request = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/auth/signout")
        request.headerFields[.cookie] = "__Host-sesame-session=\(token)"
        return request
    }

    @Test func signOutThatCannotRevokeFailsAndKeepsTheCookie() async throws {
        let failing = try SessionTokens<AppSession>(keys: keys, revocations: CannotRecord())
        let token = try failing.create(.user(userID: "1", tenantID: nil))
        await #expect(throws: AuthError.revocationUnavailable) { try await failing.signOut(Self.request(token: token), redirect: "/") }
        #expect(try await failing.verify(token).subjectID == "user:userID:1")
        // A store that cannot even be asked: the same.
        let down = try SessionTokens<AppSession>(keys: keys, revocations: SessionTokenTests.FailingStore())
        await #expect(throws: AuthError.revocationUnavailable) { try await down.signOut(Self.request(token: token), redirect: "/") }
    }

    @Test func signOutRevokesTheToken() async throws {
        let token = try sessions.create(.user(userID: "1", tenantID: nil))
        let response = try await sessions.signOut(Self.request(token: token), redirect: "/")
        #expect(response.status == .seeOther)
        await #expect(throws: TokenError.revoked) { try await sessions.verify(token) }
        // An invalid or already revoked token needs no revocation: sign-out still clears the cookie.
        #expect(try await sessions.signOut(Self.request(token: token), redirect: "/").status == .seeOther)
        #expect(try await sessions.signOut(Self.request(token: "garbage"), redirect: "/").status == .seeOther)
    }

    /// `POST /auth/signout` answers 503 with its code when the revocation cannot be recorded: no redirect, no
    /// cleared cookie, no "signOut" event.
    @Test func theSignOutActionAnswers503() async throws {
        let failing = try SessionTokens<AppSession>(keys: keys, revocations: CannotRecord())
        let handler = AuthHandler(
            providers: [:], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys, sessions: SessionAccess(failing)
        ) { _ in .json([:]) }
        let csrf = await handler.handle(AuthRequest(head: HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/csrf")))
        let csrfToken = try #require(JSONValue(parsing: csrf.body)["csrfToken"]?.stringValue)
        let csrfCookie = String(try #require(csrf.head.headerFields[.setCookie]).prefix { $0 != ";" })
        let token = try failing.create(.user(userID: "1", tenantID: nil))
        var head = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/auth/signout")
        head.headerFields[.cookie] = "__Host-sesame-session=\(token); \(csrfCookie)"
        head.headerFields[.origin] = "https://app.example"
        head.headerFields[.contentType] = "application/x-www-form-urlencoded"
        let response = await handler.handle(AuthRequest(head: head, body: Array("csrfToken=\(csrfToken)".utf8)))
        #expect(response.head.status == .serviceUnavailable)
        #expect(try JSONValue(parsing: response.body)["error"] == "revocation_unavailable")
        #expect(response.head.headerFields[.setCookie] == nil)
        #expect(try await failing.verify(token).subjectID == "user:userID:1")
    }

    /// Signing in again (or Auth.js's `update`) revokes the token the request carried, in its cookie and its
    /// `Authorization` field; when that cannot be recorded, the sign-in fails rather than leave two live tokens.
    @Test func reSignInRevokesTheCarriedTokens() async throws {
        let old = try sessions.create(.user(userID: "1", tenantID: nil))
        let bearer = try sessions.create(.user(userID: "1", tenantID: nil))
        var request = Self.request(token: old)
        request.headerFields[.authorization] = "Bearer \(bearer)"
        let response = try await sessions.signIn(.user(userID: "1", tenantID: "acme"), request: request, redirect: "/")
        let fresh = String(try #require(response.headerFields[.setCookie]).prefix { $0 != ";" }.dropFirst("__Host-sesame-session=".count))
        await #expect(throws: TokenError.revoked) { try await sessions.verify(old) }
        await #expect(throws: TokenError.revoked) { try await sessions.verify(bearer) }
        #expect(try await sessions.verify(fresh).subject == .user(userID: "1", tenantID: "acme"))

        let failing = try SessionTokens<AppSession>(keys: keys, revocations: CannotRecord())
        let carried = try failing.create(.user(userID: "1", tenantID: nil))
        await #expect(throws: AuthError.revocationUnavailable) {
            try await failing.signIn(.user(userID: "2", tenantID: nil), request: Self.request(token: carried), redirect: "/")
        }
        // Without a carried token there is nothing to revoke, and sign-in works.
        #expect(try await failing.signIn(.user(userID: "2", tenantID: nil), request: nil, redirect: "/").status == .found)
    }
}
