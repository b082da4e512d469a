import Sesame
import Testing
import Vapor
import VaporTesting

/// The `name=value` part of each cookie a response sets.
func cookies(_ response: TestingHTTPResponse) -> [String] {
    response.headers[.setCookie].map { String($0.prefix { $0 != ";" }) }
}

@Test func signInWithAnEmailLinkThenSignOut() async throws {
    let baseURL = "http://localhost:8080"
    let keys = try KeySet(activeKey: JWK.generate(.es256))
    let (links, linkSent) = AsyncStream<String>.makeStream()

    try await withApp(configure: { app in
        try await configure(app, baseURL: baseURL, keys: keys, sendLink: { link, _ in linkSent.yield(link) })
    }) { app in
        let client = try app.testing()
        // Without a session, the account page sends browsers to the sign-in page.
        let refused = try await client.sendRequest(.GET, "account", headers: ["Accept": "text/html"])
        #expect(refused.status == .found)
        #expect(refused.headers.first(name: .location) == "/auth/signin?redirect=%2Faccount")
        let home = try await client.sendRequest(.GET, "/")
        #expect(home.body.string == "Welcome! Sign in at /auth/signin")

        // Ask for a link, as the sign-in page's form does; the browser keeps the cookie that the link needs.
        let asked = try await client.sendRequest(
            .POST, "auth/email/authorize",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": baseURL],
            body: ByteBuffer(string: "email=ada%40example.com&returnTo=%2Faccount"))
        #expect(asked.status == .ok)
        let linkCookie = try #require(cookies(asked).first)
        var delivered = links.makeAsyncIterator()
        let link = try #require(await delivered.next())

        // Opening the link in that browser signs in and goes back to the account page.
        let opened = try await client.sendRequest(.GET, String(link.dropFirst(baseURL.count)), headers: ["Cookie": linkCookie])
        #expect(opened.status == .found)
        #expect(opened.headers.first(name: .location) == "/account")
        let session = try #require(cookies(opened).first { $0.hasPrefix("sesame-session=") })
        let account = try await client.sendRequest(.GET, "account", headers: ["Cookie": session])
        #expect(account.body.string == "Signed in as ada@example.com. Sign out at /auth/signout")
        let welcome = try await client.sendRequest(.GET, "/", headers: ["Cookie": session])
        #expect(welcome.body.string == "Welcome back, ada@example.com!")

        // Sign out with the CSRF token; the old cookie is refused afterwards.
        let csrf = try await client.sendRequest(.GET, "auth/csrf")
        let token = try #require(csrf.body.string.firstMatch(of: /"csrfToken":"([^"]+)"/)?.1)
        let signedOut = try await client.sendRequest(
            .POST, "auth/signout",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": baseURL,
                      "Cookie": ([session] + cookies(csrf)).joined(separator: "; ")],
            body: ByteBuffer(string: "csrfToken=\(token)"))
        #expect(signedOut.status == .seeOther)
        let afterwards = try await client.sendRequest(.GET, "account", headers: ["Cookie": session])
        #expect(afterwards.status == .unauthorized)
    }
}
