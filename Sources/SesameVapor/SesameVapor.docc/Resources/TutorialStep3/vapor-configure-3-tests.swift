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
        let guest = try await client.sendRequest(.GET, "/")
        #expect(guest.body.string == "Welcome! Sign in at /auth/signin")

        // Without a session, the account page sends browsers to the sign-in page, which will bring them back.
        let refused = try await client.sendRequest(.GET, "account", headers: ["Accept": "text/html"])
        #expect(refused.status == .found)
        let signInPage = try #require(refused.headers.first(name: .location))
        #expect(signInPage == "/auth/signin?redirect=%2Faccount")
        let page = try await client.sendRequest(.GET, signInPage, headers: ["Accept": "text/html"])
        #expect(page.body.string.contains(#"name="callbackUrl" value="/account""#))
        let csrfToken = try #require(page.body.string.firstMatch(of: /name="csrfToken" value="([^"]+)"/)?.1)
        let csrfCookie = try #require(cookies(page).first)

        // Post the page's email form. The answer shows "check your email" and sets the cookie the link needs.
        let asked = try await client.sendRequest(
            .POST, "auth/signin/email",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html", "Origin": baseURL, "Cookie": csrfCookie],
            body: ByteBuffer(string: "csrfToken=\(csrfToken)&callbackUrl=%2Faccount&email=ada%40example.com"))
        #expect(asked.status == .seeOther)
        #expect(asked.headers.first(name: .location) == baseURL + "/auth/verify-request")
        let linkCookie = try #require(cookies(asked).first { $0.hasPrefix("sesame-link-email=") })
        var delivered = links.makeAsyncIterator()
        let link = try #require(await delivered.next())

        // Opening the link in that browser signs in and goes back to the account page.
        let opened = try await client.sendRequest(
            .GET, String(link.dropFirst(baseURL.count)), headers: ["Accept": "text/html", "Cookie": linkCookie])
        #expect(opened.status == .found)
        #expect(opened.headers.first(name: .location) == "/account")
        let session = try #require(cookies(opened).first { $0.hasPrefix("sesame-session=") })
        let account = try await client.sendRequest(.GET, "account", headers: ["Cookie": session])
        #expect(account.body.string == "Signed in as ada@example.com. Sign out at /auth/signout")
        let welcome = try await client.sendRequest(.GET, "/", headers: ["Cookie": session])
        #expect(welcome.body.string == "Welcome back, ada@example.com!")

        // Sign out, as the sign-out page's form does (the same CSRF token); the old cookie is refused afterwards.
        let signedOut = try await client.sendRequest(
            .POST, "auth/signout",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": baseURL, "Cookie": "\(session); \(csrfCookie)"],
            body: ByteBuffer(string: "csrfToken=\(csrfToken)"))
        #expect(signedOut.status == .seeOther)
        let afterwards = try await client.sendRequest(.GET, "account", headers: ["Cookie": session])
        #expect(afterwards.status == .unauthorized)
    }
}
