import Sesame
import Testing
import Vapor
import VaporTesting

@Test func theAuthRoutesAreMounted() async throws {
    let keys = try KeySet(activeKey: JWK.generate(.es256))
    try await withApp(configure: { app in
        try await configure(app, baseURL: "http://localhost:8080", keys: keys, sendLink: { _, _ in })
    }) { app in
        try await app.testing().test(.GET, "auth/signin", headers: ["Accept": "text/html"]) { response async in
            #expect(response.status == .ok)
            #expect(response.body.string.contains("action=\"http://localhost:8080/auth/signin/email\""))
        }
        try await app.testing().test(.GET, "auth/providers") { response async in
            #expect(response.body.string.contains("\"email\""))
        }
        try await app.testing().test(.GET, "account") { response async in
            #expect(response.body.string == "Your account")
        }
    }
}
