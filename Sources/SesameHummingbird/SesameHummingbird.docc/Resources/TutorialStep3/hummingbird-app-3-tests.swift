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
        let guest = try await client.execute(uri: "/", method: .get)
        #expect(String(buffer: guest.body) == "Welcome! Sign in at /auth/signin")

        // Without a session, the account page sends browsers to the sign-in page, which will bring them back.
        let refused = try await client.execute(uri: "/account", method: .get, headers: [.accept: "text/html"])
        #expect(refused.status == .found)
        let signInPage = try #require(refused.headers[.location])
        #expect(signInPage == "/auth/signin?redirect=%2Faccount")
        let page = try await client.execute(uri: signInPage, method: .get, headers: [.accept: "text/html"])
        let form = String(buffer: page.body)
        #expect(form.contains(#"name="callbackUrl" value="/account""#))
        let csrfToken = try #require(form.firstMatch(of: /name="csrfToken" value="([^"]+)"/)?.1)
        let csrfCookie = try #require(cookies(page).first)

        // Post the page's email form. The answer shows "check your email" and sets the cookie the link needs.
        let asked = try await client.execute(
            uri: "/auth/signin/email", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .accept: "text/html", .origin: baseURL, .cookie: csrfCookie],
            body: ByteBuffer(string: "csrfToken=\(csrfToken)&callbackUrl=%2Faccount&email=ada%40example.com"))
        #expect(asked.status == .seeOther)
        #expect(asked.headers[.location] == baseURL + "/auth/verify-request")
        let linkCookie = try #require(cookies(asked).first { $0.hasPrefix("sesame-link-email=") })
        var delivered = links.makeAsyncIterator()
        let link = try #require(await delivered.next())

        // Opening the link in that browser signs in and goes back to the account page.
        let opened = try await client.execute(
            uri: String(link.dropFirst(baseURL.count)), method: .get, headers: [.accept: "text/html", .cookie: linkCookie])
        #expect(opened.status == .found)
        #expect(opened.headers[.location] == "/account")
        let session = try #require(cookies(opened).first { $0.hasPrefix("sesame-session=") })
        let account = try await client.execute(uri: "/account", method: .get, headers: [.cookie: session])
        #expect(String(buffer: account.body) == "Signed in as ada@example.com. Sign out at /auth/signout")
        let home = try await client.execute(uri: "/", method: .get, headers: [.cookie: session])
        #expect(String(buffer: home.body) == "Welcome back, ada@example.com!")

        // Sign out, as the sign-out page's form does (the same CSRF token); the old cookie is refused afterwards.
        let signedOut = try await client.execute(
            uri: "/auth/signout", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .origin: baseURL, .cookie: "\(session); \(csrfCookie)"],
            body: ByteBuffer(string: "csrfToken=\(csrfToken)"))
        #expect(signedOut.status == .seeOther)
        let afterwards = try await client.execute(uri: "/account", method: .get, headers: [.cookie: session])
        #expect(afterwards.status == .unauthorized)
    }
}
