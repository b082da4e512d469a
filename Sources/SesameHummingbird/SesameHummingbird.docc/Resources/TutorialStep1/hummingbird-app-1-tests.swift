import Hummingbird
import HummingbirdTesting
import Testing

@Test func theStartingAppAnswers() async throws {
    let app = buildApplication(configuration: ApplicationConfiguration())
    try await app.test(.router) { client in
        let home = try await client.execute(uri: "/", method: .get)
        #expect(String(buffer: home.body) == "Welcome!")
        let account = try await client.execute(uri: "/account", method: .get)
        #expect(String(buffer: account.body) == "Your account")
    }
}
