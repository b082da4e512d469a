import Hummingbird
import HummingbirdTesting
import Sesame
import Testing

@Test func theAuthRoutesAreMounted() async throws {
    let app = try buildApplication(
        configuration: ApplicationConfiguration(), baseURL: "http://localhost:8080",
        keys: KeySet(activeKey: JWK.generate(.es256)), sendLink: { _, _ in })
    try await app.test(.router) { client in
        let page = try await client.execute(uri: "/auth/signin", method: .get, headers: [.accept: "text/html"])
        #expect(page.status == .ok)
        #expect(String(buffer: page.body).contains("action=\"http://localhost:8080/auth/signin/email\""))
        let providers = try await client.execute(uri: "/auth/providers", method: .get)
        #expect(String(buffer: providers.body).contains("\"email\""))
        let account = try await client.execute(uri: "/account", method: .get)
        #expect(String(buffer: account.body) == "Your account")
    }
}
