import Testing
import Vapor
import VaporTesting

@Test func theStartingAppAnswers() async throws {
    try await withApp(configure: configure) { app in
        try await app.testing().test(.GET, "/") { response async in
            #expect(response.body.string == "Welcome!")
        }
        try await app.testing().test(.GET, "account") { response async in
            #expect(response.body.string == "Your account")
        }
    }
}
