import Hummingbird
import HummingbirdTesting
import Sesame
import Testing

/// The `name=value` part of each cookie a response sets.
func cookies(_ response: TestResponse) -> [String] {
    response.headers[values: .setCookie].map { String($0.prefix { $0 != ";" }) }
}

@Test func signInWithAnEmailLinkThenSignOut() async throws {
    let baseURL = "http://localhost:8080"
    let (links, linkSent) = AsyncStream<String>.makeStream()
    let app = try buildApplication(
        configuration: ApplicationConfiguration(), baseURL: baseURL,
        keys: KeySet(activeKey: JWK.generate(.es256)),
        sendLink: { link, _ in linkSent.yield(link) })

    try await app.test(.router) { client in
        // Without a session, the account page sends browsers to the sign-in page.
        let refused = try await client.execute(uri: "/account", method: .get, headers: [.accept: "text/html"])
        #expect(refused.status == .found)
        #expect(refused.headers[.location] == "/auth/signin?redirect=%2Faccount")
        let guest = try await client.execute(uri: "/", method: .get)
        #expect(String(buffer: guest.body) == "Welcome! Sign in at /auth/signin")

        // Ask for a link, as the sign-in page's form does; the browser keeps the cookie that the link needs.
        let asked = try await client.execute(
            uri: "/auth/email/authorize", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .origin: baseURL],
            body: ByteBuffer(string: "email=ada%40example.com&returnTo=%2Faccount"))
        #expect(asked.status == .ok)
        let linkCookie = try #require(cookies(asked).first)
        var delivered = links.makeAsyncIterator()
        let link = try #require(await delivered.next())

        // Opening the link in that browser signs in and goes back to the account page.
        let opened = try await client.execute(
            uri: String(link.dropFirst(baseURL.count)), method: .get, headers: [.cookie: linkCookie])
        #expect(opened.status == .found)
        #expect(opened.headers[.location] == "/account")
        let session = try #require(cookies(opened).first { $0.hasPrefix("sesame-session=") })
        let account = try await client.execute(uri: "/account", method: .get, headers: [.cookie: session])
        #expect(String(buffer: account.body) == "Signed in as ada@example.com. Sign out at /auth/signout")
        let home = try await client.execute(uri: "/", method: .get, headers: [.cookie: session])
        #expect(String(buffer: home.body) == "Welcome back, ada@example.com!")

        // Sign out with the CSRF token; the old cookie is refused afterwards.
        let csrf = try await client.execute(uri: "/auth/csrf", method: .get)
        let token = try #require(String(buffer: csrf.body).firstMatch(of: /"csrfToken":"([^"]+)"/)?.1)
        let signedOut = try await client.execute(
            uri: "/auth/signout", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .origin: baseURL,
                      .cookie: ([session] + cookies(csrf)).joined(separator: "; ")],
            body: ByteBuffer(string: "csrfToken=\(token)"))
        #expect(signedOut.status == .seeOther)
        let afterwards = try await client.execute(uri: "/account", method: .get, headers: [.cookie: session])
        #expect(afterwards.status == .unauthorized)
    }
}
