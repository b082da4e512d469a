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
        let session = try #require(try sessions.verifiedNow(token))
        #expect(session.subjectID == "user:userID:1")
        try await sessions.revoke(session)
        #expect(throws: TokenError.revoked) { try sessions.verifiedNow(token) }
        #expect(throws: TokenError.invalidSignature) { try sessions.verifiedNow(Forge.tamperedSignature(token)) }
        // A store on a server has to be awaited: no answer without waiting, the same answer from `verify`.
        let failing = try SessionTokens<AppSession>(keys: sessions.keys, revocations: FailingStore(), now: clock.function)
        let other = try failing.create(.apiKey(keyID: "k"))
        #expect(try failing.verifiedNow(other) == nil)
        await #expect(throws: TokenError.revocationUnavailable) { try await failing.verify(other) }
        // Resolution follows: a cookie session resolves at once, a revoked one is cleared at once, the store
        // that must be awaited gives no resolution.
        var request = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        request.headerFields[.authorization] = "Bearer " + token
        let resolution = try #require(sessions.resolvedNow(SessionCredentials(request)))
        #expect(resolution.session == nil && resolution.failure == .revoked)
        request.headerFields[.authorization] = "Bearer " + other
        #expect(failing.resolvedNow(SessionCredentials(request)) == nil)
        #expect(sessions.commit(resolution).ready.flatMap { try? $0.get() } == [])
    }

    struct FailingStore: RevocationStore {
        struct Down: Error {}
        func revocationStatus(tokenID: String, subject: String, issuedAt: Date) -> Eventual<Result<Bool, any Error>> { .catching { throw Down() } }
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

    /// The audit's four forgeries, each built around the seal of a token that is cached: none is served from the
    /// cache (or accepted at all), by `verify`, by a cookie or by a `Bearer` header.
    @Test func theCacheServesOnlyTheExactTokenItVerified() async throws {
        let victim = try sessions.create(.user(userID: "victim", tenantID: nil))
        #expect(try await sessions.verify(victim).subject == .user(userID: "victim", tenantID: nil))  // now cached
        let parts = victim.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let (header, payload, seal) = (parts[0], parts[1], parts[2])
        let mallory = String(try sessions.create(.user(userID: "mallory", tenantID: nil)).split(separator: ".")[1])
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8))
        let forgeries = [
            "another payload": "\(header).\(mallory).\(seal)",
            "alg none": "\(none).\(payload).\(seal)",
            "a leading segment": ".\(victim)",
            "a space in the payload": "\(header).\(payload.prefix(10)) \(payload.dropFirst(10)).\(seal)",
            "a trailing byte": victim + "A",
            "a byte less": String(victim.dropFirst()),
        ]
        for (name, forged) in forgeries {
            await #expect(throws: TokenError.self, "\(name)") { try await sessions.verify(forged) }
            #expect(throws: TokenError.self, "\(name)") { try sessions.verifiedNow(forged) }
            var cookie = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api")
            cookie.headerFields[.cookie] = "__Host-sesame-session=\(forged)"
            let fromCookie = await sessions.resolve(cookie)
            #expect(fromCookie.session == nil && fromCookie.failure != nil, "\(name)")
            var bearer = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api")
            bearer.headerFields[.authorization] = "Bearer \(forged)"
            #expect(await sessions.resolve(bearer).session == nil, "\(name)")
            #expect(sessions.resolvedNow(SessionCredentials(authorization: "Bearer \(forged)"))?.session == nil, "\(name)")
        }
        // The victim's own token is still served from the cache.
        let before = sessions.cacheStatistics.hits
        #expect(try await sessions.verify(victim).subject == .user(userID: "victim", tenantID: nil))
        #expect(sessions.cacheStatistics.hits == before + 1)
    }

    /// An entry reached under its key by other bytes (a key collision, forced here) is a miss: the presented token
    /// is verified in full.
    @Test func aCacheKeyCollisionIsAMiss() async throws {
        let victim = try sessions.create(.user(userID: "victim", tenantID: nil))
        let victimSession = try await sessions.verify(victim)
        let forged = try Forge.jws(
            header: Forge.decodeSegment(victim, 0), payload: Forge.decodeSegment(sessions.create(.user(userID: "mallory", tenantID: nil)), 1),
            key: JWK.generate(.es256))
        sessions.cache?.insert(.init(session: victimSession, token: TokenSeal.bytes(of: victim[...]), keyGeneration: 0), for: TokenSeal.cacheKey(of: forged[...]), isStale: { _ in false })
        let misses = sessions.cacheStatistics.misses
        await #expect(throws: TokenError.invalidSignature) { try await sessions.verify(forged) }
        #expect(sessions.cacheStatistics.misses == misses + 1)
        #expect(TokenSeal.matches(TokenSeal.bytes(of: victim[...]), token: victim[...]))
        #expect(!TokenSeal.matches(TokenSeal.bytes(of: victim[...]), token: forged[...]))
        #expect(!TokenSeal.matches([], token: ""[...]))
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

    /// `Secure` is configuration (the base URL's scheme), never the request's or the redirect's host: a proxy
    /// that sends `Host: 127.0.0.1`, or a redirect to a loopback address, changes nothing.
    @Test func whetherACookieIsSecureIsConfiguration() async throws {
        for redirect in ["http://localhost:8080/", "http://127.0.0.1:8080/x", "http://[::1]:3000/", "/relative", "https://localhost/"] {
            let cookie = try #require(sessions.cookie(.apiKey(keyID: "k"), redirect: redirect).headerFields[.setCookie])
            #expect(cookie.contains("; Secure") && cookie.hasPrefix("__Host-sesame-session="), "\(redirect)")
        }
        var proxied = HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: "/auth/link/callback")
        let signedIn = try await sessions.signIn(.apiKey(keyID: "k"), request: proxied, redirect: "http://127.0.0.1/")
        #expect(signedIn.headerFields[values: .setCookie].allSatisfy { $0.contains("; Secure") && $0.hasPrefix("__Host-") })

        #expect(SessionCookie.isSecure(baseURL: "https://app.example"))
        #expect(SessionCookie.isSecure(baseURL: "HTTPS://app.example"))
        #expect(!SessionCookie.isSecure(baseURL: "http://127.0.0.1:8080"))
        #expect(!SessionCookie.isSecure(baseURL: "http://localhost:3000"))
        #expect(!SessionCookie.isSecure(baseURL: "http://[::1]:8080"))
        // Plain http anywhere else is a misconfiguration, not development: cookies stay Secure (and so unusable
        // over plain http, which shows the mistake) rather than carry sessions in the clear.
        #expect(SessionCookie.isSecure(baseURL: "http://app.example"))
        #expect(SessionCookie.isSecure(baseURL: "http://127.0.0.1.evil.example"))
        #expect(SessionCookie.isSecure(baseURL: "http://localhost.evil.example"))
        #expect(SessionCookie.isSecure(baseURL: "http://user@127.0.0.1"))
        let development = try SessionTokens<AppSession>(
            keys: sessions.keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: "http://127.0.0.1:8080")))
        let plain = try #require(development.cookie(.apiKey(keyID: "k"), redirect: "https://x/").headerFields[.setCookie])
        #expect(plain.hasPrefix("sesame-session=") && !plain.contains("Secure"))
        let named = try SessionTokens<AppSession>(
            keys: sessions.keys, configuration: SessionConfiguration(cookie: SessionCookie(name: "auth-token", secure: false)))
        #expect(try named.cookie(.apiKey(keyID: "k"), redirect: "https://x/").headerFields[.setCookie]?.hasPrefix("auth-token=") == true)
    }

    /// `Max-Age` never exceeds 400 days (what browsers keep), whatever the configured lifetime.
    @Test func cookieMaxAgeIsAtMost400Days() throws {
        let long = try SessionTokens<AppSession>(keys: sessions.keys, configuration: SessionConfiguration(lifetime: 1_000 * 24 * 60 * 60), now: clock.function)
        let cookie = try #require(long.cookie(.apiKey(keyID: "k"), redirect: "/").headerFields[.setCookie])
        #expect(cookie.contains("Max-Age=34560000;"))
        let usual = try #require(sessions.cookie(.apiKey(keyID: "k"), redirect: "/").headerFields[.setCookie])
        #expect(usual.contains("Max-Age=2592000;"))  // the session's own 30 days
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
            #expect(sessions.token(from: SessionCredentials(request)) == token)
        }
        var basic = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/api")
        basic.headerFields[.authorization] = "Basic \(token)"
        #expect(sessions.token(from: SessionCredentials(basic)) == nil)

        var cookie = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        cookie.headerFields[.cookie] = "theme=dark; __Host-sesame-session=\(token); other=1"
        #expect(sessions.token(from: SessionCredentials(cookie)) == token)
        #expect(try await sessions.session(from: cookie)?.subject == .apiKey(keyID: "k"))
        var split = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        split.headerFields.append(HTTPField(name: .cookie, value: "theme=dark"))
        split.headerFields.append(HTTPField(name: .cookie, value: "__Host-sesame-session=\(token)"))
        #expect(sessions.token(from: SessionCredentials(split)) == token)

        // A framework's raw fields (Vapor's) read the same: names ignore ASCII case, Cookie fields stay separate and
        // in order, several Authorization fields join as HTTPFields joins them, other fields are not read.
        let rawFields = SessionCredentials(fields: [
            (name: "COOKIE", value: "theme=dark"), (name: "X-Cookie", value: "__Host-sesame-session=forged"),
            (name: "cookie", value: "__Host-sesame-session=\(token)"), (name: "Authorization", value: "Bearer a"),
            (name: "authorizatioN", value: "Bearer b"), (name: "authorization\u{212A}", value: "Bearer c"),
        ])
        #expect(rawFields.cookies == ["theme=dark", "__Host-sesame-session=\(token)"])
        #expect(rawFields.authorization == "Bearer a, Bearer b")
        #expect(sessions.token(from: SessionCredentials(fields: [(name: "Authorization", value: "bearer \(token)")])) == token)
        var lookalike = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        lookalike.headerFields[.cookie] = "x__Host-sesame-session=\(token)"
        #expect(sessions.token(from: SessionCredentials(lookalike)) == nil)
        #expect(try await sessions.session(from: lookalike) == nil)
        // Raw credentials (what the Vapor adapter hands over) read the same way: the `__Host-` cookie across
        // fields, a Basic header falls back to the cookie, and a lookalike name is no cookie.
        let fresh = try sessions.create(.user(userID: "2", tenantID: nil))
        #expect(sessions.token(from: SessionCredentials(cookies: ["sesame-session=\(fresh)", "a=1; __Host-sesame-session=\(token)"])) == token)
        #expect(sessions.token(from: SessionCredentials(authorization: "Basic \(fresh)", cookies: ["__Host-sesame-session=\(token)"])) == token)
        #expect(sessions.token(from: SessionCredentials(cookies: ["x__Host-sesame-session=\(token)"])) == nil)
        #expect(sessions.token(from: SessionCredentials()) == nil)
        let raw = try #require(sessions.resolvedNow(SessionCredentials(cookies: ["theme=dark", "__Host-sesame-session=\(fresh)"])))
        #expect(raw.session?.subject == .user(userID: "2", tenantID: nil) && raw.responseFields.isEmpty)
        // The token is read as a slice of its field, so what precedes it may be any UTF-8 (here 2- to 4-byte
        // characters), and a quoted value loses its quotes; the slice finds `fresh` in the cache (verified above),
        // again and again.
        let multibyte = SessionCredentials(cookies: ["theme=grün—🌙; __Host-sesame-session=\"\(fresh)\"; after=é"])
        #expect(sessions.token(from: multibyte) == fresh)
        #expect(sessions.resolvedNow(multibyte)?.session?.subject == .user(userID: "2", tenantID: nil))
        #expect(sessions.resolvedNow(multibyte)?.session?.subject == .user(userID: "2", tenantID: nil))
        let forged = try #require(sessions.resolvedNow(SessionCredentials(cookies: ["__Host-sesame-session=\(Forge.tamperedSignature(fresh))"])))
        #expect(forged.session == nil)
        #expect(forged.failure == .invalidSignature)
        #expect(forged.responseFields.map(\.value) == ["__Host-sesame-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure"])
        var garbage = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        garbage.headerFields[.cookie] = "__Host-sesame-session=not-a-token"
        await #expect(throws: TokenError.malformedToken) { try await sessions.session(from: garbage) }
    }

    /// On https the cookie is read only under its `__Host-` name: an unprefixed cookie, which a sibling
    /// subdomain or a plain-http man-in-the-middle can plant, is ignored, whole or chunked, even next to a valid one.
    @Test func aPlantedUnprefixedCookieIsIgnoredOnHTTPS() async throws {
        let attacker = try sessions.create(.user(userID: "attacker", tenantID: nil))
        let victim = try sessions.create(.user(userID: "victim", tenantID: nil))
        for header in ["sesame-session=\(attacker)", "sesame-session.0=\(attacker.prefix(100)); sesame-session.1=\(attacker.dropFirst(100))"] {
            var planted = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
            planted.headerFields[.cookie] = header
            #expect(sessions.token(from: SessionCredentials(planted)) == nil)
            #expect(await sessions.resolve(planted).session == nil)
            #expect(sessions.resolvedNow(SessionCredentials(cookies: [header]))?.session == nil)
            // Planted first, the real cookie after it: the real one is read.
            planted.headerFields[.cookie] = header + "; __Host-sesame-session=\(victim)"
            #expect(await sessions.resolve(planted).session?.subject == .user(userID: "victim", tenantID: nil))
        }
        // Chunks under the prefixed name are read.
        var chunked = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/")
        chunked.headerFields[.cookie] = "__Host-sesame-session.0=\(victim.prefix(100)); __Host-sesame-session.1=\(victim.dropFirst(100))"
        #expect(await sessions.resolve(chunked).session?.subject == .user(userID: "victim", tenantID: nil))
        // In plain-http development the cookie has no prefix, and only the unprefixed name is read.
        let development = try SessionTokens<AppSession>(
            keys: sessions.keys, configuration: SessionConfiguration(cookie: SessionCookie(baseURL: "http://127.0.0.1:8080")))
        var plain = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:8080", path: "/")
        plain.headerFields[.cookie] = "sesame-session=\(victim)"
        #expect(await development.resolve(plain).session?.subject == .user(userID: "victim", tenantID: nil))
    }

    /// A session token is read from `Authorization` and the cookie only: never from a query string or a form.
    @Test func aTokenInTheQueryOrAFormIsIgnored() async throws {
        let token = try sessions.create(.user(userID: "1", tenantID: nil))
        for (path, body) in [("/api?token=\(token)", ""), ("/api?session=\(token)&access_token=\(token)", ""), ("/api", "token=\(token)&sessionToken=\(token)")] {
            var request = HTTPRequest(method: body.isEmpty ? .get : .post, scheme: "https", authority: "app.example", path: path)
            if !body.isEmpty { request.headerFields[.contentType] = "application/x-www-form-urlencoded" }
            #expect(sessions.token(from: SessionCredentials(request)) == nil)
            let resolution = await sessions.resolve(request)
            #expect(resolution.session == nil && resolution.failure == nil)
        }
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

    /// The clearing cookie names the cookie exactly as it was set (name, `Path`, no `Domain`), so the browser
    /// drops it.
    @Test func clearCookieExpiresTheCookieItSet() {
        let response = sessions.clearCookie(redirect: "/")
        #expect(response.headerFields[values: .setCookie] == ["__Host-sesame-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure"])
    }
}
