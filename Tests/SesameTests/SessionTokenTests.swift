import Foundation
import HTTPTypes
import Testing
@testable import Sesame

@Suite struct SessionTokenTests {
    let clock = TestClock()
    let key: JWK
    let sessions: SessionTokens<AppSession>

    init() throws {
        key = try JWK.generate(.es256)
        sessions = try SessionTokens<AppSession>(
            keys: KeySet(activeKey: key), revocations: MemoryRevocationStore(now: clock.function), now: clock.function)
    }

    // MARK: Typed subjects

    @Test func createsAndVerifiesTypedSessions() async throws {
        let token = try sessions.create(.user(userID: "123", tenantID: "acme"))
        let session = try await sessions.verify(token)
        switch session.subject {
        case .user(let userID, let tenantID):
            #expect(userID == "123")
            #expect(tenantID == "acme")
        case .apiKey:
            Issue.record("wrong case")
        }
        #expect(session.expiresAt.timeIntervalSince1970 - session.issuedAt.timeIntervalSince1970 == 30 * 24 * 60 * 60)
        let apiKey = try await sessions.verify(sessions.create(.apiKey(keyID: "k1")))
        #expect(apiKey.subject == .apiKey(keyID: "k1"))
        #expect(apiKey.subjectID == "apiKey:keyID:k1")
    }

    @Test func keepsSSTsWireShape() throws {
        let token = try sessions.create(.user(userID: "123", tenantID: nil))
        let payload = Forge.decodeSegment(token, 1)
        #expect(payload["type"] == "user")
        #expect(payload["properties"] == ["userID": "123"])
        #expect(payload["sub"] == "user:userID:123")
        #expect(payload["iat"] == .integer(Int64(clock.now)))
        #expect(payload["exp"] == .integer(Int64(clock.now) + 30 * 24 * 60 * 60))
        #expect(payload["jti"]?.stringValue?.count == 15)
        #expect(payload["iss"] == nil)
        let header = Forge.decodeSegment(token, 0)
        #expect(header == ["alg": "ES256", "kid": .string(key.keyID)])
        // A typical user session token stays small.
        #expect(token.utf8.count <= 350)
    }

    @Test func subjectsWithSeveralPropertiesGetAHashedSubjectID() throws {
        let a = AppSession.user(userID: "1", tenantID: "x").subjectIdentifier
        let b = AppSession.user(userID: "1", tenantID: "y").subjectIdentifier
        #expect(a.hasPrefix("user:"))
        #expect(a != b)
        #expect(a == AppSession.user(userID: "1", tenantID: "x").subjectIdentifier)
    }

    @Test func writesIssuerAndAudienceWhenConfiguredAndRequiresThem() async throws {
        let configured = try SessionTokens<AppSession>(
            keys: KeySet(activeKey: key), configuration: SessionConfiguration(issuer: "https://auth.example", audience: "app"), now: clock.function)
        let token = try configured.create(.apiKey(keyID: "k"))
        #expect(Forge.decodeSegment(token, 1)["iss"] == "https://auth.example")
        #expect(Forge.decodeSegment(token, 1)["aud"] == "app")
        #expect(try await configured.verify(token).issuer == "https://auth.example")
        // A token without them (same key) is not accepted by the configured verifier.
        let bare = try sessions.create(.apiKey(keyID: "k"))
        await #expect(throws: TokenError.invalidIssuer) { try await configured.verify(bare) }
    }

    @Test func unknownTypeMeansNoSession() async throws {
        let token = try Forge.jws(
            header: ["alg": "ES256", "kid": .string(key.keyID)],
            payload: ["type": "admin", "properties": ["userID": "1"], "sub": "x", "iat": .integer(Int64(clock.now)), "exp": .integer(Int64(clock.now + 60)), "jti": "j"],
            key: key)
        await #expect(throws: TokenError.unknownSessionType) { try await sessions.verify(token) }
    }

    @Test func malformedPropertiesMeanNoSession() async throws {
        for properties: JSONValue in [["userID": 5], [:], "string", ["tenantID": "t"]] {
            let token = try Forge.jws(
                header: ["alg": "ES256", "kid": .string(key.keyID)],
                payload: ["type": "user", "properties": properties, "sub": "x", "iat": .integer(Int64(clock.now)), "exp": .integer(Int64(clock.now + 60)), "jti": "j"],
                key: key)
            await #expect(throws: TokenError.invalidSessionProperties) { try await sessions.verify(token) }
        }
    }

    @Test func missingSessionClaimsAreRejected() async throws {
        for missing in ["sub", "jti", "iat"] {
            var payload: JSONObject = ["type": "apiKey", "properties": ["keyID": "k"], "sub": "x", "iat": .integer(Int64(clock.now)), "exp": .integer(Int64(clock.now + 60)), "jti": "j"]
            payload[missing] = nil
            let token = try Forge.jws(header: ["alg": "ES256", "kid": .string(key.keyID)], payload: .object(payload), key: key)
            await #expect(throws: TokenError.missingClaim) { try await sessions.verify(token) }
        }
    }

    @Test func tokensOfOtherPurposesAreNotSessions() async throws {
        // The same key and the same payload shape, but explicitly typed as another kind of token.
        let valid = try sessions.create(.user(userID: "1", tenantID: nil))
        let payload = Forge.decodeSegment(valid, 1)
        for type in ["sesame-link+jwt", "JWT", "at+jwt"] {
            let typed = try Forge.jws(header: ["alg": "ES256", "kid": .string(key.keyID), "typ": .string(type)], payload: payload, key: key)
            await #expect(throws: TokenError.wrongTokenType) { try await sessions.verify(typed) }
        }
    }

    @Test func expiresAfterItsLifetime() async throws {
        let token = try sessions.create(.apiKey(keyID: "k"), lifetime: 120)
        #expect(try await sessions.verify(token).subject == .apiKey(keyID: "k"))
        clock.advance(120 + 61)
        // Also when the first verification put the token in the cache.
        await #expect(throws: TokenError.expired) { try await sessions.verify(token) }
        let uncached = try SessionTokens<AppSession>(keys: sessions.keys, configuration: SessionConfiguration(cacheCapacity: 0), now: clock.function)
        await #expect(throws: TokenError.expired) { try await uncached.verify(token) }
    }

    @Test func rejectsForgedTokens() async throws {
        let other = try SessionTokens<AppSession>(keys: KeySet(activeKey: JWK.generate(.es256)), now: clock.function)
        await #expect(throws: TokenError.unknownKeyID) { try await sessions.verify(other.create(.apiKey(keyID: "k"))) }
        let token = try sessions.create(.apiKey(keyID: "k"))
        var payload = Forge.decodeSegment(token, 1).objectValue!
        payload["properties"] = ["keyID": "root"]
        let forged = Forge.replacingSegment(token, 1, with: Base64URL.encode(JSONValue.object(payload).jsonBytes))
        await #expect(throws: TokenError.invalidSignature) { try await sessions.verify(forged) }
    }

    // MARK: Encrypted sessions

    @Test func encryptedSessionsHideThePayload() async throws {
        let encryption = try JWK.generate(.a256gcm)
        let encrypted = try SessionTokens<AppSession>(
            keys: KeySet(activeKey: encryption), configuration: SessionConfiguration(format: .encrypted), now: clock.function)
        let token = try encrypted.create(.user(userID: "secret-user", tenantID: nil))
        #expect(token.split(separator: ".", omittingEmptySubsequences: false).count == 5)
        #expect(try await encrypted.verify(token).subject == .user(userID: "secret-user", tenantID: nil))
        // The format must match the key.
        #expect(throws: TokenError.keyNotConfigured) {
            try SessionTokens<AppSession>(keys: KeySet(activeKey: encryption), configuration: SessionConfiguration(format: .signed))
        }
        #expect(throws: TokenError.keyNotConfigured) {
            try SessionTokens<AppSession>(keys: KeySet(activeKey: key), configuration: SessionConfiguration(format: .encrypted))
        }
    }

    // MARK: Revocation and the cache

    @Test func revokesOneSession() async throws {
        let first = try sessions.create(.user(userID: "1", tenantID: nil))
        let second = try sessions.create(.user(userID: "1", tenantID: nil))
        let session = try await sessions.verify(first)  // now cached
        try await sessions.revoke(session)
        await #expect(throws: TokenError.revoked) { try await sessions.verify(first) }
        #expect(try await sessions.verify(second).subjectID == "user:userID:1")
    }

    @Test func signsOutEverywhere() async throws {
        let first = try sessions.create(.user(userID: "1", tenantID: nil))
        let other = try sessions.create(.user(userID: "2", tenantID: nil))
        _ = try await sessions.verify(first)
        clock.advance(10)
        try await sessions.revokeAll(subjectID: "user:userID:1")
        await #expect(throws: TokenError.revoked) { try await sessions.verify(first) }
        #expect(try await sessions.verify(other).subjectID == "user:userID:2")
        // Sessions issued after the next full second are valid again.
        clock.advance(1)
        #expect(try await sessions.verify(sessions.create(.user(userID: "1", tenantID: nil))).subjectID == "user:userID:1")
    }

    @Test func verifiesWithoutWaitingWhenTheRevocationStoreAnswersFromMemory() async throws {
        let token = try sessions.create(.user(userID: "1", tenantID: nil))
        let session = try #require(try sessions.verifyWithoutWaiting(token))
        #expect(session.subjectID == "user:userID:1")
        try await sessions.revoke(session)
        #expect(throws: TokenError.revoked) { try sessions.verifyWithoutWaiting(token) }
        #expect(throws: TokenError.invalidSignature) { try sessions.verifyWithoutWaiting(String(token.dropLast(2)) + "AA") }
        // A store on a server has to be awaited: no answer without waiting, the same answer from `verify`.
        let failing = try SessionTokens<AppSession>(keys: sessions.keys, revocations: FailingStore(), now: clock.function)
        let other = try failing.create(.apiKey(keyID: "k"))
        #expect(try failing.verifyWithoutWaiting(other) == nil)
        await #expect(throws: TokenError.revocationUnavailable) { try await failing.verify(other) }
        // Resolution follows: a cookie session resolves at once, a revoked one is cleared at once, the store
        // that must be awaited gives no resolution.
        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        request.headerFields[.authorization] = "Bearer " + token
        let resolution = try #require(sessions.resolveWithoutWaiting(SessionCredentials(request)))
        #expect(resolution.session == nil && resolution.failure == .revoked)
        request.headerFields[.authorization] = "Bearer " + other
        #expect(failing.resolveWithoutWaiting(SessionCredentials(request)) == nil)
        #expect(sessions.commitWithoutWaiting(resolution) == [])
    }

    struct FailingStore: RevocationStore {
        struct Down: Error {}
        func isRevoked(tokenID: String, subject: String, issuedAt: Date) async throws -> Bool { throw Down() }
        func revoke(tokenID: String, expiresAt: Date) async throws { throw Down() }
        func revokeAll(subject: String, issuedBefore: Date) async throws { throw Down() }
    }

    @Test func failsClosedWhenRevocationCannotBeChecked() async throws {
        let failing = try SessionTokens<AppSession>(keys: sessions.keys, revocations: FailingStore(), now: clock.function)
        let token = try failing.create(.apiKey(keyID: "k"))
        await #expect(throws: TokenError.revocationUnavailable) { try await failing.verify(token) }
        await #expect(throws: TokenError.revocationUnavailable) { try await failing.revokeAll(subjectID: "apiKey:keyID:k") }
    }

    @Test func cacheHitsReturnTheSameSessionAndOnlyForTheSameBytes() async throws {
        let token = try sessions.create(.apiKey(keyID: "k"))
        let first = try await sessions.verify(token)
        #expect(sessions.cacheStatistics.entries == 1)
        let second = try await sessions.verify(token)
        #expect(first.id == second.id)
        #expect(sessions.cacheStatistics == .init(hits: 1, misses: 1, entries: 1))
        #expect(sessions.cacheStatistics.hitRate == 0.5)
        // A different token (one flipped signature bit) is not served from the cache.
        var signature = Base64URL.decode(token.split(separator: ".")[2])!
        signature[5] ^= 1
        let tampered = Forge.replacingSegment(token, 2, with: Base64URL.encode(signature))
        await #expect(throws: TokenError.invalidSignature) { try await sessions.verify(tampered) }
    }

    @Test func cacheEntriesOnlyServeTokensWithTheSameSeal() async throws {
        let victim = try sessions.create(.user(userID: "victim", tenantID: nil))
        let victimSession = try await sessions.verify(victim)
        // A forged token that (by construction here, by a hash collision in an attack) lands on the victim's
        // entry is still fully verified, because its seal differs.
        let forged = try Forge.jws(
            header: Forge.decodeSegment(victim, 0), payload: Forge.decodeSegment(sessions.create(.user(userID: "mallory", tenantID: nil)), 1),
            key: JWK.generate(.es256))
        sessions.cache?.insert(.init(session: victimSession, seal: TokenSeal.seal(of: victim[...])), for: TokenSeal.cacheKey(of: forged[...]), isStale: { _ in false })
        await #expect(throws: TokenError.invalidSignature) { try await sessions.verify(forged) }
        // The victim's seal under another payload reaches the victim's entry, and yields the victim's own
        // session (which only the holder of the victim's token can present), never the spliced payload's.
        let spliced = Forge.replacingSegment(victim, 1, with: String(forged.split(separator: ".")[1]))
        #expect(try await sessions.verify(spliced).subject == .user(userID: "victim", tenantID: nil))
        // Without the cache, the spliced token is simply invalid.
        #expect(throws: TokenError.invalidSignature) { try sessions.verifyUncached(spliced) }
    }

    /// The seal is found eight bytes at a time: every position of the last dot, in every length up to a few
    /// words, and a dot-free text, give what a byte-by-byte search gives.
    @Test func sealStartsAfterTheLastDot() {
        for length in 0...40 {
            for dots in [[], [0], [length - 1], [length / 2], [1, length - 2], Array(stride(from: 0, to: length, by: 3))] {
                var bytes = Array(repeating: UInt8(ascii: "A"), count: length)
                for dot in dots where bytes.indices.contains(dot) { bytes[dot] = UInt8(ascii: ".") }
                let expected = bytes.lastIndex(of: UInt8(ascii: ".")).map { $0 + 1 } ?? 0
                #expect(bytes.withUnsafeBufferPointer(TokenSeal.sealStart) == expected, "length \(length), dots \(dots)")
            }
        }
        // Bytes just above and below `.` (0x2E) are not dots.
        let neighbours: [UInt8] = [0x2D, 0x2F, 0xAE, 0x2E, 0x2D, 0x2F, 0xAE, 0x0E, 0x2D, 0x2F, 0xAE, 0x3E, 0x2D, 0x2F, 0xAE, 0x1E, 0x2F]
        #expect(neighbours.withUnsafeBufferPointer(TokenSeal.sealStart) == 4)
        #expect(TokenSeal.seal(of: "a.b.sig"[...]) == Array("sig".utf8))
    }

    @Test func cacheIsBounded() async throws {
        let small = try SessionTokens<AppSession>(keys: sessions.keys, configuration: SessionConfiguration(cacheCapacity: 32), now: clock.function)
        var tokens: [String] = []
        for index in 0..<200 {
            let token = try small.create(.apiKey(keyID: "k\(index)"))
            tokens.append(token)
            _ = try await small.verify(token)
        }
        let cached = small.cacheStatistics.entries
        #expect(cached <= 32)
        #expect(cached > 0)
    }

    // MARK: HTTP

    @Test func cookieRedirectSetsASecureCookie() throws {
        let response = try sessions.cookie(.user(userID: "1", tenantID: nil), redirect: "https://app.example/home")
        #expect(response.status == .found)
        #expect(response.headerFields[.location] == "https://app.example/home")
        let cookie = try #require(response.headerFields[.setCookie])
        #expect(cookie.hasPrefix("__Host-sesame-session=ey"))
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
            #expect(cookie.contains(attribute), "missing \(attribute)")
        }
        #expect(response.headerFields[.cacheControl] == "no-store")
    }

    @Test func cookieIsNotSecureOnlyForLocalDevelopment() throws {
        for redirect in ["http://localhost:8080/", "http://127.0.0.1:8080/x", "http://[::1]:3000/"] {
            let cookie = try #require(sessions.cookie(.apiKey(keyID: "k"), redirect: redirect).headerFields[.setCookie])
            #expect(!cookie.contains("Secure"))
            #expect(cookie.hasPrefix("sesame-session="))
        }
        for redirect in ["http://localhost.evil.example/", "http://example.com/", "/relative", "https://localhost/"] {
            let cookie = try #require(sessions.cookie(.apiKey(keyID: "k"), redirect: redirect).headerFields[.setCookie])
            #expect(cookie.contains("Secure"), "\(redirect)")
        }
        let named = try SessionTokens<AppSession>(
            keys: sessions.keys, configuration: SessionConfiguration(cookie: SessionCookie(name: "auth-token", secure: false)))
        #expect(try named.cookie(.apiKey(keyID: "k"), redirect: "https://x/").headerFields[.setCookie]?.hasPrefix("auth-token=") == true)
    }

    @Test func parameterRedirectKeepsTheQuery() throws {
        let cases = [
            ("https://app.example/", "https://app.example/?token="),
            ("https://app.example/cb?state=1", "https://app.example/cb?state=1&token="),
            ("https://app.example/cb?state=1#frag", "https://app.example/cb?state=1&token="),
            ("myapp://callback", "myapp://callback?token="),
        ]
        for (redirect, prefix) in cases {
            let response = try sessions.parameter(.apiKey(keyID: "k"), redirect: redirect)
            let location = try #require(response.headerFields[.location])
            #expect(location.hasPrefix(prefix), "\(location)")
            #expect(response.headerFields[.setCookie] == nil)
            #expect(response.headerFields[.referrerPolicy] == "no-referrer")
            let token = String(location.dropFirst(prefix.count).prefix { $0 != "#" })
            #expect(throws: Never.self) { try sessions.verifyUncached(token) }
            if redirect.hasSuffix("#frag") { #expect(location.hasSuffix("#frag")) }
        }
    }

    @Test func readsTheTokenFromBearerOrCookie() async throws {
        let token = try sessions.create(.apiKey(keyID: "k"))
        for scheme in ["Bearer", "bearer", "BEARER"] {
            var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api")
            request.headerFields[.authorization] = "\(scheme) \(token)"
            #expect(sessions.token(from: request) == token)
        }
        var basic = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api")
        basic.headerFields[.authorization] = "Basic \(token)"
        #expect(sessions.token(from: basic) == nil)

        var cookie = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        cookie.headerFields[.cookie] = "theme=dark; __Host-sesame-session=\(token); other=1"
        #expect(sessions.token(from: cookie) == token)
        #expect(try await sessions.session(from: cookie)?.subject == .apiKey(keyID: "k"))
        var split = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        split.headerFields.append(HTTPField(name: .cookie, value: "theme=dark"))
        split.headerFields.append(HTTPField(name: .cookie, value: "sesame-session=\(token)"))
        #expect(sessions.token(from: split) == token)
        var lookalike = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        lookalike.headerFields[.cookie] = "xsesame-session=\(token)"
        #expect(sessions.token(from: lookalike) == nil)
        #expect(try await sessions.session(from: lookalike) == nil)
        // Raw credentials (what the Vapor adapter hands over) read the same way: the `__Host-` cookie wins
        // across fields, a Basic header falls back to the cookie, and a lookalike name is no cookie.
        let fresh = try sessions.create(.user(userID: "2", tenantID: nil))
        #expect(sessions.token(from: SessionCredentials(cookies: ["sesame-session=\(fresh)", "a=1; __Host-sesame-session=\(token)"])) == token)
        #expect(sessions.token(from: SessionCredentials(authorization: "Basic \(fresh)", cookies: ["sesame-session=\(token)"])) == token)
        #expect(sessions.token(from: SessionCredentials(cookies: ["xsesame-session=\(token)"])) == nil)
        #expect(sessions.token(from: SessionCredentials()) == nil)
        let raw = try #require(sessions.resolveWithoutWaiting(SessionCredentials(cookies: ["theme=dark", "sesame-session=\(fresh)"])))
        #expect(raw.session?.subject == .user(userID: "2", tenantID: nil) && raw.responseFields.isEmpty)
        // The token is read as a slice of its field, so what precedes it may be any UTF-8 (here 2- to 4-byte
        // characters), and a quoted value loses its quotes; the slice finds `fresh` in the cache (verified above),
        // again and again.
        let multibyte = SessionCredentials(cookies: ["theme=grün—🌙; sesame-session=\"\(fresh)\"; after=é"])
        #expect(sessions.token(from: multibyte) == fresh)
        #expect(sessions.resolveWithoutWaiting(multibyte)?.session?.subject == .user(userID: "2", tenantID: nil))
        #expect(sessions.resolveWithoutWaiting(multibyte)?.session?.subject == .user(userID: "2", tenantID: nil))
        let forged = try #require(sessions.resolveWithoutWaiting(SessionCredentials(cookies: ["sesame-session=\(fresh.dropLast(2))AA"])))
        #expect(forged.session == nil && forged.failure == .invalidSignature && forged.responseFields.count == 2)
        var garbage = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        garbage.headerFields[.cookie] = "sesame-session=not-a-token"
        await #expect(throws: TokenError.malformedToken) { try await sessions.session(from: garbage) }
    }

    @Test(arguments: [
        ("a=1; sesame-session=tok; b=2", "tok"),
        ("sesame-session=\"tok\"", "tok"),
        ("\tsesame-session=tok  ;x=y", "tok"),
        ("flag; sesame-session=tok", "tok"),
        ("sesame-session=; sesame-session=later", "later"),  // the first non-empty value
        ("xsesame-session=tok; sesame-sessionx=tok", nil),
        ("sesame-session", nil),
        ("", nil),
    ] as [(String, String?)])
    func parsesCookieHeaders(_ header: String, _ expected: String?) {
        var fields = HTTPFields()
        fields[.cookie] = header
        #expect(CookieHeader.value(named: "sesame-session", in: fields) == expected)
    }

    @Test func clearCookieExpiresBothNames() {
        let response = sessions.clearCookie(redirect: "/")
        let cookies = response.headerFields[values: .setCookie]
        #expect(cookies.count == 2)
        #expect(cookies.allSatisfy { $0.contains("Max-Age=0") })
        #expect(cookies.contains { $0.hasPrefix("__Host-sesame-session=;") })
        #expect(cookies.contains { $0.hasPrefix("sesame-session=;") })
    }
}
