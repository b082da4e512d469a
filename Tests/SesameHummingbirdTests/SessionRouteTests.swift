import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Sesame
import SesameHummingbird
import Testing

@Suite(.timeLimit(.minutes(3))) struct SessionRouteTests {
    @Test func guardAnswers401ToAPIsAndRedirectsBrowsers() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/api/me", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.json?["error"] == "unauthorized")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            try await client.execute(uri: "/users/only?tab=1", method: .get, headers: .browser) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/signin?redirect=%2Fusers%2Fonly%3Ftab%3D1")
            }
        }
    }

    @Test func guardChecksTheSessionKind() async throws {
        let app = try TestApp()
        let service = try app.sessions.create(.service(name: "billing"))
        let user = try app.sessions.create(.user(email: "ada@example.com"))
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/users/only", method: .get, headers: [.authorization: "Bearer \(service)"]) { response in
                #expect(response.status == .forbidden)
                #expect(response.json?["error"] == "forbidden")
            }
            try await client.execute(uri: "/users/only", method: .get, headers: [.authorization: "Bearer \(user)"]) { response in
                #expect(response.status == .ok)
                #expect(response.text == "welcome")
            }
            // Any kind passes the plain guard.
            try await client.execute(uri: "/api/me", method: .get, headers: [.authorization: "Bearer \(service)"]) { response in
                #expect(response.text == "service:name:billing")
            }
        }
    }

    @Test func sessionIsOnTheContextAndTheTaskLocal() async throws {
        let app = try TestApp()
        let token = try app.sessions.create(.user(email: "ada@example.com"))
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/whoami", method: .get, headers: [.cookie: "theme=dark; sesame-session=\(token)"]) { response in
                #expect(response.text == "user:email:ada@example.com|user:email:ada@example.com")
            }
            try await client.execute(uri: "/whoami", method: .get) { response in
                #expect(response.text == "none|none")
            }
        }
        // Outside a request there is no current session.
        #expect(AuthSession<TestSession>.current == nil)
    }

    @Test func rejectedCookiesMeanNoSessionAndAreCleared() async throws {
        let app = try TestApp()
        let other = try SessionTokens<TestSession>(keys: KeySet(activeKey: JWK.generate(.es256)))
        let forged = try other.create(.user(email: "ada@example.com"))
        let expiring = try app.sessions.create(.user(email: "ada@example.com"), lifetime: 60)
        app.clock.advance(200)
        for cookie in ["not-a-token", forged, expiring, String(repeating: "x", count: 9000)] {
            try await app.application.test(.router) { client in
                try await client.execute(uri: "/whoami", method: .get, headers: [.cookie: "sesame-session=\(cookie)"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == "none|none")
                    let cleared = response.headers[values: .setCookie]
                    #expect(cleared.contains { $0.hasPrefix("sesame-session=;") && $0.contains("Max-Age=0") })
                }
                try await client.execute(uri: "/api/me", method: .get, headers: [.cookie: "sesame-session=\(cookie)"]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
        // A rejected bearer token is no session either, but there is no cookie to clear.
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/whoami", method: .get, headers: [.authorization: "Bearer \(forged)"]) { response in
                #expect(response.text == "none|none")
                #expect(response.headers[.setCookie] == nil)
            }
        }
    }

    @Test func revokedSessionsAreRefused() async throws {
        let app = try TestApp()
        let token = try app.sessions.create(.user(email: "ada@example.com"))
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/api/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { #expect($0.status == .ok) }
            try await app.sessions.revokeAll(subjectID: "user:email:ada@example.com")
            try await client.execute(uri: "/api/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func corsAllowsOnlyListedOriginsWithCredentials() async throws {
        let app = try TestApp()
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/cors/data", method: .get, headers: [.origin: "https://app.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://app.example")
                #expect(response.headers[.accessControlAllowCredentials] == "true")
                #expect(response.headers[.vary] == "Origin")
            }
            for origin in ["https://evil.example", "null", "https://app.example.evil.example", "http://app.example"] {
                try await client.execute(uri: "/cors/data", method: .get, headers: [.origin: origin]) { response in
                    #expect(response.headers[.accessControlAllowOrigin] == nil, "\(origin)")
                    #expect(response.headers[.accessControlAllowCredentials] == nil)
                }
            }
            try await client.execute(uri: "/cors/data", method: .options, headers: [.origin: "https://app.example", .accessControlRequestMethod: "POST"]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://app.example")
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
            }
            try await client.execute(uri: "/cors/data", method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"]) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }
}
