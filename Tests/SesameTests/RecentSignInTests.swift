import Foundation
import HTTPTypes
import Testing

@testable import Sesame

/// `SessionRequirement(maxAge:)`: sensitive routes need a recent sign-in.
@Suite struct RecentSignInTests {
    enum Person: SessionSubject { case user(id: String) }

    static func session(signedInAgo seconds: TimeInterval) -> AuthSession<Person> {
        let issued = Date().addingTimeInterval(-seconds)
        return AuthSession(subject: .user(id: "u1"), subjectID: "user:u1", id: "s1", issuedAt: issued, expiresAt: issued.addingTimeInterval(86_400), issuer: nil, audience: [])
    }

    static func request(browser: Bool, path: String = "/account/password?x=1") -> HTTPRequest {
        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: path)
        if browser {
            request.headerFields[.accept] = "text/html"
            request.headerFields[.secFetchMode] = "navigate"
        }
        return request
    }

    static let sensitive = SessionRequirement<Person>(signInURL: "/signin", maxAge: .seconds(600))

    @Test func aRecentSignInPasses() {
        let resolution = SessionResolution(session: Self.session(signedInAgo: 60))
        #expect(Self.sensitive.refusal(for: Self.request(browser: false), resolution: resolution) == nil)
        #expect(SessionRequirement<Person>().refusal(for: Self.request(browser: false), resolution: SessionResolution(session: Self.session(signedInAgo: 86_000))) == nil,
                "no maxAge: any age")
    }

    @Test func anOldSignInIsRefusedForAPIs() throws {
        let refusal = try #require(Self.sensitive.refusal(for: Self.request(browser: false), resolution: SessionResolution(session: Self.session(signedInAgo: 601))))
        #expect(refusal.head.status == .forbidden)
        let body = try JSONValue(parsing: refusal.body)
        #expect(body["error"]?.stringValue == "reauth_required")
    }

    @Test func anOldSignInSendsABrowserToSignInAgainAndBack() throws {
        let refusal = try #require(Self.sensitive.refusal(for: Self.request(browser: true), resolution: SessionResolution(session: Self.session(signedInAgo: 3_600))))
        #expect(refusal.head.status.kind == .redirection)
        let location = try #require(refusal.head.headerFields[.location])
        #expect(location == "/signin?redirect=%2Faccount%2Fpassword%3Fx%3D1&reauth=1")
        // A path that is not local does not become the way back.
        let odd = try #require(Self.sensitive.refusal(for: Self.request(browser: true, path: "//evil.example/x"), resolution: SessionResolution(session: Self.session(signedInAgo: 3_600))))
        #expect(odd.head.headerFields[.location] == "/signin?redirect=%2F&reauth=1")
    }

    @Test func theKindCheckComesFirstAndNoSessionIsStillUnauthorized() throws {
        let onlyOthers = SessionRequirement<Person>(signInURL: "/signin", maxAge: .seconds(600)) { $0.subjectID == "user:someone-else" }
        let wrongKind = try #require(onlyOthers.refusal(for: Self.request(browser: false), resolution: SessionResolution(session: Self.session(signedInAgo: 3_600))))
        #expect(wrongKind.head.status == .forbidden)
        #expect(try JSONValue(parsing: wrongKind.body)["error"]?.stringValue == "forbidden")
        let none = try #require(Self.sensitive.refusal(for: Self.request(browser: false), resolution: .none))
        #expect(none.head.status == .unauthorized)
    }
}
