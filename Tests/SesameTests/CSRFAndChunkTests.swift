import Crypto
import HTTPTypes
@testable import Sesame
import Testing

@Suite struct CSRFProtectionTests {
    static let csrf = CSRFProtection(key: SymmetricKey(data: Array(repeating: 1, count: 32)), cookie: SessionCookie(name: "sesame-csrf"))

    static func request(cookie: String?) -> HTTPRequest {
        var request = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/auth/signout")
        if let cookie { request.headerFields[.cookie] = cookie }
        return request
    }

    static func cookiePair(_ setCookie: String) -> String { String(setCookie.prefix { $0 != ";" }) }

    @Test func issuesOnceAndVerifiesTheDoubleSubmit() throws {
        let (token, setCookie) = Self.csrf.token(for: Self.request(cookie: nil))
        let cookie = Self.cookiePair(try #require(setCookie))
        #expect(cookie.hasPrefix("__Host-sesame-csrf="))
        #expect(setCookie?.contains("HttpOnly") == true && setCookie?.contains("Secure") == true)
        #expect(Base64URL.decode(token)?.count == 32)
        // The same browser gets the same token back, without a new cookie.
        let again = Self.csrf.token(for: Self.request(cookie: cookie))
        #expect(again.token == token && again.setCookie == nil)
        #expect(Self.csrf.verify(Self.request(cookie: cookie), submitted: token))
    }

    @Test func rejectsMissingMismatchedAndForgedTokens() throws {
        let (token, setCookie) = Self.csrf.token(for: Self.request(cookie: nil))
        let cookie = Self.cookiePair(try #require(setCookie))
        #expect(!Self.csrf.verify(Self.request(cookie: cookie), submitted: nil))
        #expect(!Self.csrf.verify(Self.request(cookie: cookie), submitted: ""))
        #expect(!Self.csrf.verify(Self.request(cookie: cookie), submitted: token + "x"))
        #expect(!Self.csrf.verify(Self.request(cookie: nil), submitted: token))
        // A cookie planted by someone who does not hold the key: token and "signature" of their choosing.
        let planted = RandomToken.make(byteCount: 32)
        let forged = "__Host-sesame-csrf=\(planted)|\(RandomToken.make(byteCount: 32))"
        #expect(!Self.csrf.verify(Self.request(cookie: forged), submitted: planted))
        #expect(Self.csrf.token(for: Self.request(cookie: forged)).token != planted)
        // The same token under another key's signature.
        let other = CSRFProtection(key: SymmetricKey(data: Array(repeating: 2, count: 32)), cookie: SessionCookie(name: "sesame-csrf"))
        #expect(!other.verify(Self.request(cookie: cookie), submitted: token))
        // Malformed cookies.
        for value in ["", "|", "abc|def", "\(token)|", "|\(token)", "\(token)|\(token)|\(token)"] {
            #expect(!Self.csrf.verify(Self.request(cookie: "__Host-sesame-csrf=\(value)"), submitted: token))
        }
    }
}

@Suite struct ChunkedCookieTests {
    static let chunks = ChunkedCookie(cookie: SessionCookie(name: "s"), chunkSize: 100)

    static func request(_ setCookies: [String]) -> HTTPRequest {
        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        let pairs = setCookies.map { String($0.prefix { $0 != ";" }) }.filter { !$0.hasSuffix("=") }
        if !pairs.isEmpty { request.headerFields[.cookie] = pairs.joined(separator: "; ") }
        return request
    }

    @Test func smallValuesAreOneCookie() {
        let cookies = Self.chunks.setCookies(String(repeating: "a", count: 100), maxAge: 60, replacing: [])
        #expect(cookies.count == 1)
        #expect(cookies[0].hasPrefix("__Host-s=aaaa"))
        #expect(Self.chunks.value(in: Self.request(cookies).headerFields[values: .cookie]) == String(repeating: "a", count: 100))
    }

    @Test func largeValuesSplitAndReassemble() {
        let value = (0..<250).map { String($0 % 10) }.joined()
        let cookies = Self.chunks.setCookies(value, maxAge: 60, replacing: [])
        #expect(cookies.map { String($0.prefix { $0 != "=" }) } == ["__Host-s.0", "__Host-s.1", "__Host-s.2"])
        #expect(cookies.allSatisfy { $0.contains("HttpOnly") && $0.contains("Secure") && $0.contains("Path=/") })
        #expect(Self.chunks.value(in: Self.request(cookies).headerFields[values: .cookie]) == value)
        // A missing middle chunk yields only what is consecutive, never a mix of two tokens.
        #expect(Self.chunks.value(in: Self.request([cookies[0], cookies[2]]).headerFields[values: .cookie]) == String(value.prefix(100)))
    }

    @Test func shrinkingClearsStaleChunksAndGrowingClearsTheWholeCookie() {
        let large = Self.chunks.setCookies(String(repeating: "b", count: 300), maxAge: 60, replacing: [])
        let shrunk = Self.chunks.setCookies(String(repeating: "c", count: 150), maxAge: 60, replacing: Self.request(large).headerFields[values: .cookie])
        #expect(shrunk.count == 3)
        #expect(shrunk[2].hasPrefix("__Host-s.2=;") && shrunk[2].contains("Max-Age=0"))
        let small = Self.chunks.setCookies("d", maxAge: 60, replacing: Self.request(large).headerFields[values: .cookie])
        #expect(small.filter { $0.contains("Max-Age=0") }.count == 3)
        let grown = Self.chunks.setCookies(String(repeating: "e", count: 150), maxAge: 60, replacing: Self.request(small).headerFields[values: .cookie])
        #expect(grown.contains { $0.hasPrefix("__Host-s=;") && $0.contains("Max-Age=0") })
    }
}

/// Session tokens too large for one cookie travel in chunks and come back whole.
@Suite struct ChunkedSessionCookieTests {
    @Test func largeSessionsAreChunkedAndResolved() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let sessions = try SessionTokens<AppSession>(keys: keys)
        let subject = AppSession.user(userID: String(repeating: "u", count: 5_000), tenantID: "acme")
        let response = try await sessions.signIn(subject, request: nil, redirect: "https://app.example/")
        let cookies = response.headerFields[values: .setCookie]
        #expect(cookies.count == 2)
        #expect(cookies.allSatisfy { $0.count <= 4_000 })
        #expect(cookies.map { String($0.prefix { $0 != "=" }) } == ["__Host-sesame-session.0", "__Host-sesame-session.1"])

        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        request.headerFields[.cookie] = cookies.map { String($0.prefix { $0 != ";" }) }.joined(separator: "; ")
        let resolution = await sessions.resolve(request)
        #expect(resolution.session?.subject == subject)

        // Signing in again with a small session clears the chunks; signing out clears them too.
        let small = try await sessions.signIn(.apiKey(keyID: "k"), request: request, redirect: "https://app.example/")
        let replaced = small.headerFields[values: .setCookie]
        #expect(replaced.contains { $0.hasPrefix("__Host-sesame-session=ey") })
        #expect(replaced.filter { $0.contains("Max-Age=0") }.count == 2)
        let out = try await sessions.signOut(request, redirect: "/")
        #expect(out.headerFields[values: .setCookie].contains { $0.hasPrefix("__Host-sesame-session.1=;") })
    }
}
