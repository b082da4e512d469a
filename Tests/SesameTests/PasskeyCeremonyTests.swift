import Crypto
import Foundation
import HTTPTypes
import Testing

@testable import Sesame

/// ``Passkeys``' ceremonies against a software authenticator: every check of WebAuthn §7.1 and §7.2 refuses with
/// its own code, each response is accepted once, and what is stored is what the authenticator attested.
@Suite struct PasskeyCeremonyTests {
    static let origin = "https://app.example"
    let clock = PasswordAccountsTests.Clock()
    let store = MemoryAccountStore()
    let keys: KeySet
    let passkeys: Passkeys

    init() throws {
        keys = try KeySet(activeKey: JWK.generate(.es256))
        let clock = clock
        passkeys = Passkeys(store: store, keys: keys, baseURL: Self.origin, replay: MemoryReplayStore(), configuration: PasskeyConfiguration(relyingPartyName: "Sesame Tests", maximumPerUser: 3),
            now: { clock.now })
    }

    func makePasskeys(_ configure: (inout PasskeyConfiguration) -> Void) -> Passkeys {
        var configuration = PasskeyConfiguration(relyingPartyName: "Sesame Tests")
        configure(&configuration)
        let clock = clock
        return Passkeys(store: store, keys: keys, baseURL: Self.origin, replay: MemoryReplayStore(), configuration: configuration, now: { clock.now })
    }

    func user(email: String? = nil) async throws -> AuthUser {
        let user = AuthUser(email: email ?? "ada\(UUID().uuidString.prefix(6))@example.com", emailVerified: clock.now)
        try await store.createUser(user, account: nil)
        return user
    }

    /// The request a browser sends back: the options' cookie and the credential as the body.
    static func request(_ options: PasskeyOptions, _ credential: JSONValue, client: String? = "198.51.100.7") -> AuthRequest {
        request(cookie: String(options.cookieField.value.prefix { $0 != ";" }), credential, client: client)
    }

    static func request(cookie: String?, _ credential: JSONValue, client: String? = "198.51.100.7") -> AuthRequest {
        var head = HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/auth/callback/passkey")
        if let cookie { head.headerFields[.cookie] = cookie }
        head.headerFields[.contentType] = "application/json"
        return AuthRequest(head: head, body: credential.jsonBytes, clientAddress: client)
    }

    static func options(_ options: PasskeyOptions) -> JSONValue { .object(options.options) }

    /// Registers a software authenticator for a user; returns it with its stored record.
    func registered(_ user: AuthUser, _ authenticator: SoftAuthenticator = SoftAuthenticator()) async throws -> SoftAuthenticator {
        var authenticator = authenticator
        let options = try await passkeys.registrationOptions(for: user)
        _ = try await passkeys.register(Self.request(options, authenticator.create(Self.options(options), origin: Self.origin)), user: user, name: "Laptop")
        return authenticator
    }

    // MARK: Registration

    @Test func registrationStoresWhatTheAuthenticatorAttested() async throws {
        let ada = try await user()
        let options = try await passkeys.registrationOptions(for: ada)
        let json = options.options
        #expect(json["rp"]?["id"] == "app.example" && json["rp"]?["name"] == "Sesame Tests")
        #expect(json["user"]?["id"]?.stringValue.flatMap(Base64URL.decode) == Array(ada.id.utf8))
        #expect(json["challenge"]?.stringValue.flatMap(Base64URL.decode)?.count == 32)
        #expect(json["authenticatorSelection"]?["residentKey"] == "required" && json["authenticatorSelection"]?["userVerification"] == "required")
        #expect(json["pubKeyCredParams"]?.arrayValue?.compactMap { $0["alg"]?.int64Value } == [-8, -7, -257])
        #expect(json["attestation"] == "none")
        #expect(options.cookieField.value.contains("HttpOnly") && options.cookieField.value.contains("Secure") && options.cookieField.value.hasPrefix("__Host-sesame-webauthn="))
        var authenticator = SoftAuthenticator()
        authenticator.backupEligible = true
        authenticator.backedUp = true
        authenticator.counter = 7
        let passkey = try await passkeys.register(Self.request(options, authenticator.create(Self.options(options), origin: Self.origin)), user: ada, name: "  Laptop  ")
        #expect(passkey.credentialID == authenticator.credentialID && passkey.userID == ada.id && passkey.publicKey == authenticator.coseKey)
        #expect(passkey.counter == 7 && passkey.backedUp && passkey.deviceType == "multiDevice" && passkey.transports == ["internal"] && passkey.name == "Laptop")
        #expect(try await store.authenticator(credentialID: authenticator.credentialID) == passkey)
        // The next options exclude it, so the same authenticator is not registered twice.
        let next = try await passkeys.registrationOptions(for: ada)
        #expect(next.options["excludeCredentials"]?.arrayValue?.first?["id"]?.stringValue == Base64URL.encode(authenticator.credentialID))
    }

    @Test func registrationRefusesEachFailedCheckWithItsOwnCode() async throws {
        let ada = try await user()
        func attempt(_ configure: (inout SoftAuthenticator) -> Void = { _ in }, answer: (inout SoftAuthenticator, JSONValue) -> JSONValue) async throws {
            var authenticator = SoftAuthenticator()
            configure(&authenticator)
            let options = try await passkeys.registrationOptions(for: ada)
            _ = try await passkeys.register(Self.request(options, answer(&authenticator, Self.options(options))), user: ada)
        }
        await #expect(throws: AuthError.passkeyWrongCeremony) { try await attempt { a, o in a.create(o, origin: Self.origin, type: "webauthn.get") } }
        await #expect(throws: AuthError.passkeyChallengeMismatch) {
            try await attempt { a, o in a.create(o, origin: Self.origin, challenge: Base64URL.encode([UInt8](repeating: 7, count: 32))) }
        }
        await #expect(throws: AuthError.passkeyOriginNotAllowed) { try await attempt { a, o in a.create(o, origin: "https://evil.example") } }
        await #expect(throws: AuthError.passkeyOriginNotAllowed) { try await attempt { a, o in a.create(o, origin: "https://app.example:8443") } }
        await #expect(throws: AuthError.passkeyOriginNotAllowed) { try await attempt { a, o in a.create(o, origin: Self.origin, crossOrigin: true) } }
        await #expect(throws: AuthError.passkeyRelyingPartyMismatch) { try await attempt { a, o in a.create(o, origin: Self.origin, rpID: "evil.example") } }
        await #expect(throws: AuthError.passkeyUserNotPresent) { try await attempt({ $0.userPresent = false }) { a, o in a.create(o, origin: Self.origin) } }
        await #expect(throws: AuthError.passkeyUserNotVerified) { try await attempt({ $0.userVerified = false }) { a, o in a.create(o, origin: Self.origin) } }
        await #expect(throws: AuthError.invalidPasskeyResponse) {
            try await attempt { a, o in a.create(o, origin: Self.origin, attestedCredentialID: [1, 2, 3, 4]) }
        }
        #expect(try await store.authenticators(userID: ada.id).isEmpty, "nothing was stored")
    }

    @Test func userVerificationCanBeOnlyPreferred() async throws {
        let relaxed = makePasskeys { $0.requiresUserVerification = false }
        let ada = try await user()
        var authenticator = SoftAuthenticator()
        authenticator.userVerified = false
        let options = try await relaxed.registrationOptions(for: ada)
        #expect(options.options["authenticatorSelection"]?["userVerification"] == "preferred")
        _ = try await relaxed.register(Self.request(options, authenticator.create(Self.options(options), origin: Self.origin)), user: ada)
        #expect(try await relaxed.passkeys(userID: ada.id).count == 1)
    }

    @Test func aChallengeIsRedeemedOnceForItsCeremonyAndUserAndExpires() async throws {
        let (ada, bob) = (try await user(), try await user())
        var authenticator = SoftAuthenticator()
        let options = try await passkeys.registrationOptions(for: ada)
        let answer = authenticator.create(Self.options(options), origin: Self.origin)
        // No cookie, a tampered one, another user's.
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.register(Self.request(cookie: nil, answer), user: ada) }
        var cookie = String(options.cookieField.value.prefix { $0 != ";" })
        cookie.replaceSubrange(cookie.index(cookie.endIndex, offsetBy: -3)..<cookie.index(cookie.endIndex, offsetBy: -2), with: cookie.hasSuffix("A") ? "B" : "A")
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.register(Self.request(cookie: cookie, answer), user: ada) }
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.register(Self.request(options, answer), user: bob) }
        // That attempt spent it: the right user cannot replay it either.
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.register(Self.request(options, answer), user: ada) }
        // A registration challenge does not sign in.
        let fresh = try await passkeys.registrationOptions(for: ada)
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.authenticate(Self.request(fresh, authenticator.get(Self.options(fresh), origin: Self.origin))) }
        // Five minutes later, it has expired.
        let late = try await passkeys.registrationOptions(for: ada)
        clock.advance(301)
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.register(Self.request(late, authenticator.create(Self.options(late), origin: Self.origin)), user: ada) }
        #expect(try await store.authenticators(userID: ada.id).isEmpty)
    }

    @Test func aRegisteredCredentialAndTheLimitAreRefused() async throws {
        let (ada, bob) = (try await user(), try await user())
        let authenticator = try await registered(ada)
        // The same credential for another user.
        var copy = authenticator
        let options = try await passkeys.registrationOptions(for: bob)
        await #expect(throws: AuthError.passkeyInUse) { try await passkeys.register(Self.request(options, copy.create(Self.options(options), origin: Self.origin)), user: bob) }
        _ = try await registered(ada)
        _ = try await registered(ada)
        await #expect(throws: AuthError.tooManyPasskeys) { try await passkeys.registrationOptions(for: ada) }
    }

    @Test func malformedCredentialsAreCleanErrors() async throws {
        let ada = try await user()
        var authenticator = SoftAuthenticator()
        let bodies: [JSONValue] = [
            "not an object", [:], ["type": "public-key"],
            ["id": "AAAA", "rawId": "AAAB", "type": "public-key", "response": [:]],
            ["id": "AAAA", "rawId": "AAAA", "type": "password", "response": [:]],
            ["id": "AA==", "rawId": "AA==", "type": "public-key", "response": [:]],
            ["id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": ["clientDataJSON": "!!", "attestationObject": "AAAA"]],
            ["id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": ["clientDataJSON": .string(Base64URL.encode(Array("{}".utf8))), "attestationObject": "AAAA"]],
        ]
        for body in bodies {
            let options = try await passkeys.registrationOptions(for: ada)
            await #expect(throws: AuthError.invalidPasskeyResponse) { try await passkeys.register(Self.request(options, body), user: ada) }
        }
        // An attestation object that is not CBOR, and one cut short.
        for cut in [1, 10, 40] {
            let options = try await passkeys.registrationOptions(for: ada)
            var answer = authenticator.create(Self.options(options), origin: Self.origin)
            let full = Base64URL.decode(answer["response"]!["attestationObject"]!.stringValue!)!
            var response = answer["response"]!.objectValue!
            response["attestationObject"] = .string(Base64URL.encode(full.dropLast(cut)))
            var object = answer.objectValue!
            object["response"] = .object(response)
            answer = .object(object)
            await #expect(throws: AuthError.invalidPasskeyResponse) { try await passkeys.register(Self.request(options, answer), user: ada) }
        }
    }

    // MARK: Authentication

    @Test func discoverableSignInVerifiesAndRecordsTheCounter() async throws {
        let ada = try await user()
        var authenticator = try await registered(ada)
        let options = try await passkeys.authenticationOptions(returnTo: "/dashboard")
        #expect(options.options["allowCredentials"] == [] && options.options["rpId"] == "app.example" && options.options["userVerification"] == "required")
        clock.advance(5)
        let assertion = try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin)))
        #expect(assertion.user.id == ada.id && assertion.userVerified && assertion.returnTo == "/dashboard")
        let stored = try #require(try await store.authenticator(credentialID: authenticator.credentialID))
        #expect(stored.counter == 1 && stored.lastUsedAt == clock.now.wholeMilliseconds)
        // Replaying the same response: the challenge is spent.
        let replayed = Self.request(options, authenticator.get(Self.options(options), origin: Self.origin))
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.authenticate(replayed) }
    }

    @Test func signInRefusesEachFailedCheckWithItsOwnCode() async throws {
        let (ada, bob) = (try await user(), try await user())
        let registeredAuthenticator = try await registered(ada)
        func attempt(_ configure: (inout SoftAuthenticator) -> Void = { _ in }, answer: (inout SoftAuthenticator, JSONValue) -> JSONValue) async throws {
            var authenticator = registeredAuthenticator
            configure(&authenticator)
            let options = try await passkeys.authenticationOptions()
            _ = try await passkeys.authenticate(Self.request(options, answer(&authenticator, Self.options(options))))
        }
        await #expect(throws: AuthError.passkeyWrongCeremony) { try await attempt { a, o in a.get(o, origin: Self.origin, type: "webauthn.create") } }
        await #expect(throws: AuthError.passkeyChallengeMismatch) { try await attempt { a, o in a.get(o, origin: Self.origin, challenge: Base64URL.encode([UInt8](repeating: 1, count: 32))) } }
        await #expect(throws: AuthError.passkeyOriginNotAllowed) { try await attempt { a, o in a.get(o, origin: "http://app.example") } }
        await #expect(throws: AuthError.passkeyRelyingPartyMismatch) { try await attempt { a, o in a.get(o, origin: Self.origin, rpID: "example") } }
        await #expect(throws: AuthError.passkeyUserNotPresent) { try await attempt({ $0.userPresent = false }) { a, o in a.get(o, origin: Self.origin) } }
        await #expect(throws: AuthError.passkeyUserNotVerified) { try await attempt({ $0.userVerified = false }) { a, o in a.get(o, origin: Self.origin) } }
        // Another key under the registered credential ID: the signature does not verify.
        await #expect(throws: AuthError.passkeyInvalidSignature) { try await attempt({ $0.key = .p256(P256.Signing.PrivateKey()) }) { a, o in a.get(o, origin: Self.origin) } }
        await #expect(throws: AuthError.passkeyUnknownCredential) { try await attempt({ $0.credentialID = [9, 9, 9, 9] }) { a, o in a.get(o, origin: Self.origin) } }
        await #expect(throws: AuthError.passkeyUnknownCredential) { try await attempt { a, o in a.get(o, origin: Self.origin, userHandle: .some(Array(bob.id.utf8))) } }
        await #expect(throws: AuthError.invalidPasskeyResponse) { try await attempt { a, o in a.get(o, origin: Self.origin, userHandle: .some(nil)) } }
        // None of that moved the stored counter.
        #expect(try await store.authenticator(credentialID: registeredAuthenticator.credentialID)?.counter == 0)
    }

    @Test func aCounterThatGoesBackFlagsThePasskeyAndRefusesItFromThenOn() async throws {
        let ada = try await user()
        var authenticator = try await registered(ada)
        var clone = authenticator
        for _ in 0..<3 {
            let options = try await passkeys.authenticationOptions()
            _ = try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin)))
        }
        // The clone signs with counter 1, behind the original's 3.
        let options = try await passkeys.authenticationOptions()
        await #expect(throws: AuthError.passkeyCloned) { try await passkeys.authenticate(Self.request(options, clone.get(Self.options(options), origin: Self.origin))) }
        #expect(try await store.authenticator(credentialID: authenticator.credentialID)?.flaggedAt != nil)
        // The original is refused too from then on: nobody can tell which copy is the real one.
        let next = try await passkeys.authenticationOptions()
        await #expect(throws: AuthError.passkeyCloned) { try await passkeys.authenticate(Self.request(next, authenticator.get(Self.options(next), origin: Self.origin))) }
    }

    @Test func aFlagOnlyPolicyLetsTheSignInThroughButFlags() async throws {
        let relaxed = makePasskeys { $0.counterPolicy = .flagOnly }
        let ada = try await user()
        var authenticator = try await registered(ada)
        authenticator.counter = 10
        var options = try await relaxed.authenticationOptions()
        _ = try await relaxed.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin)))
        authenticator.counter = 2
        options = try await relaxed.authenticationOptions()
        #expect(try await relaxed.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin))).user.id == ada.id)
        #expect(try await store.authenticator(credentialID: authenticator.credentialID)?.flaggedAt != nil)
    }

    @Test func anAuthenticatorThatDoesNotCountSignsInAgainAndAgain() async throws {
        let ada = try await user()
        var authenticator = SoftAuthenticator()
        authenticator.counts = false
        authenticator = try await registered(ada, authenticator)
        for _ in 0..<3 {
            let options = try await passkeys.authenticationOptions()
            #expect(try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin))).user.id == ada.id)
        }
        #expect(try await store.authenticator(credentialID: authenticator.credentialID)?.flaggedAt == nil)
    }

    @Test func ed25519PasskeysWork() async throws {
        let ada = try await user()
        var authenticator = try await registered(ada, SoftAuthenticator(key: .ed25519(Curve25519.Signing.PrivateKey())))
        let options = try await passkeys.authenticationOptions()
        #expect(try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin))).user.id == ada.id)
    }

    @Test func theSecondFactorCeremonyAcceptsOnlyThatUsersPasskeys() async throws {
        let (ada, bob) = (try await user(), try await user())
        var adas = try await registered(ada)
        var bobs = try await registered(bob)
        let options = try await passkeys.authenticationOptions(userID: ada.id)
        #expect(options.options["allowCredentials"]?.arrayValue?.map { $0["id"]?.stringValue } == [Base64URL.encode(adas.credentialID)])
        // Bob's passkey does not finish Ada's sign-in, and Ada's second-factor challenge is not a sign-in on its own.
        await #expect(throws: AuthError.passkeyUnknownCredential) {
            try await passkeys.authenticate(Self.request(options, bobs.get(Self.options(options), origin: Self.origin)), secondFactorFor: ada.id)
        }
        let again = try await passkeys.authenticationOptions(userID: ada.id)
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.authenticate(Self.request(again, adas.get(Self.options(again), origin: Self.origin))) }
        let third = try await passkeys.authenticationOptions(userID: ada.id)
        await #expect(throws: AuthError.passkeyChallengeExpired) {
            try await passkeys.authenticate(Self.request(third, adas.get(Self.options(third), origin: Self.origin)), secondFactorFor: bob.id)
        }
        let fourth = try await passkeys.authenticationOptions(userID: ada.id)
        #expect(try await passkeys.authenticate(Self.request(fourth, adas.get(Self.options(fourth), origin: Self.origin)), secondFactorFor: ada.id).user.id == ada.id)
    }

    @Test func verificationsAreLimitedPerClient() async throws {
        let tight = makePasskeys { $0.perClient = MemoryRateLimiter(capacity: 2, refillInterval: 60) }
        let ada = try await user()
        var authenticator = try await registered(ada)
        for _ in 0..<2 {
            let options = try await tight.authenticationOptions()
            _ = try await tight.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin)))
        }
        let options = try await tight.authenticationOptions()
        await #expect(throws: AuthError.rateLimited) { try await tight.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin))) }
        // Another client is not limited by the first.
        #expect(try await tight.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin), client: "203.0.113.9")).user.id == ada.id)
    }

    // MARK: Sign-up

    @Test func passkeyFirstSignUpNeedsTheEmailedCodeOnce() async throws {
        let email = "new\(UUID().uuidString.prefix(6).lowercased())@example.com"
        let admitted = try await passkeys.admitSignUp(email: email.uppercased(), client: "198.51.100.7")
        #expect(admitted == email)
        guard case .code(let to, let code) = try await passkeys.signUpMessage(email: admitted) else { Issue.record("no code"); return }
        #expect(to == email && code.count == 8)
        let blank = AuthRequest(head: HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/"))
        await #expect(throws: AuthError.invalidVerification) { try await passkeys.signUpOptions(email: email, code: "00000000" == code ? "11111111" : "00000000", name: nil, request: blank) }
        await #expect(throws: AuthError.invalidVerification) { try await passkeys.signUpOptions(email: email, code: nil, name: nil, request: blank) }
        let options = try await passkeys.signUpOptions(email: email, code: code, name: " Ada ", request: blank)
        await #expect(throws: AuthError.invalidVerification, "the code works once") { try await passkeys.signUpOptions(email: email, code: code, name: nil, request: blank) }
        // A cancelled prompt: the cookie renews the ceremony without a code, for the same address only.
        let cookieRequest = Self.request(options, [:])
        await #expect(throws: AuthError.invalidVerification) { try await passkeys.signUpOptions(email: "other@example.com", code: nil, name: nil, request: cookieRequest) }
        let renewed = try await passkeys.signUpOptions(email: email, code: nil, name: nil, request: cookieRequest)
        #expect(renewed.options["user"]?["id"] == options.options["user"]?["id"] && renewed.options["challenge"] != options.options["challenge"])
        var authenticator = SoftAuthenticator()
        let signUp = try await passkeys.completeSignUp(Self.request(renewed, authenticator.create(Self.options(renewed), origin: Self.origin)))
        let (user, passkey) = (signUp.user, signUp.passkey)
        #expect(user.email == email && user.emailVerified != nil && user.name == "Ada" && passkey.userID == user.id)
        #expect(try await store.user(email: email)?.id == user.id)
        #expect(try await store.authenticators(userID: user.id).count == 1)
        // The address has an account now: the next request tells its owner, and issues no code.
        guard case .addressInUse(let owner) = try await passkeys.signUpMessage(email: email) else { Issue.record("a code for a known address"); return }
        #expect(owner == email)
        // A sign-up ceremony does not add a passkey to someone, and an add ceremony does not sign up.
        let adds = try await passkeys.registrationOptions(for: user)
        await #expect(throws: AuthError.passkeyChallengeExpired) { try await passkeys.completeSignUp(Self.request(adds, authenticator.create(Self.options(adds), origin: Self.origin))) }
    }

    @Test func aSignUpWhoseAddressWasTakenMeanwhileWritesNothing() async throws {
        let email = "race\(UUID().uuidString.prefix(6).lowercased())@example.com"
        guard case .code(_, let code) = try await passkeys.signUpMessage(email: email) else { Issue.record("no code"); return }
        let blank = AuthRequest(head: HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/"))
        let options = try await passkeys.signUpOptions(email: email, code: code, name: nil, request: blank)
        _ = try await user(email: email)
        var authenticator = SoftAuthenticator()
        await #expect(throws: AuthError.emailInUse) { try await passkeys.completeSignUp(Self.request(options, authenticator.create(Self.options(options), origin: Self.origin))) }
        #expect(try await store.authenticator(credentialID: authenticator.credentialID) == nil)
    }

    @Test func signUpRequestsAreLimitedPerAddress() async throws {
        let email = "limit\(UUID().uuidString.prefix(6).lowercased())@example.com"
        for _ in 0..<5 { _ = try await passkeys.admitSignUp(email: email, client: nil) }
        await #expect(throws: AuthError.rateLimited) { try await passkeys.admitSignUp(email: email, client: nil) }
        await #expect(throws: AuthError.invalidRequest) { try await passkeys.admitSignUp(email: "not an address", client: nil) }
    }

    // MARK: Management

    @Test func renameAndDeleteNeverRemoveTheLastWayIn() async throws {
        let (ada, bob) = (try await user(), try await user())
        let first = try await registered(ada)
        try await passkeys.rename(credentialID: first.credentialID, userID: ada.id, name: "  Phone ")
        #expect(try await passkeys.passkeys(userID: ada.id).first?.name == "Phone")
        await #expect(throws: AuthError.notFound) { try await passkeys.rename(credentialID: first.credentialID, userID: bob.id, name: "Mine") }
        await #expect(throws: AuthError.notFound) { try await passkeys.delete(credentialID: first.credentialID, userID: bob.id) }
        await #expect(throws: AuthError.lastSignInMethod) { try await passkeys.delete(credentialID: first.credentialID, userID: ada.id) }
        let second = try await registered(ada)
        try await passkeys.delete(credentialID: first.credentialID, userID: ada.id)
        #expect(try await passkeys.passkeys(userID: ada.id).map(\.credentialID) == [second.credentialID])
    }

    /// The default limit leaves room for every device a person owns: ten passkeys and more.
    @Test func aUserMayHaveTenPasskeysAndMore() async throws {
        let roomy = makePasskeys { _ in }
        #expect(roomy.configuration.maximumPerUser >= 10)
        let ada = try await user()
        for _ in 0..<12 {
            var authenticator = SoftAuthenticator()
            let options = try await roomy.registrationOptions(for: ada)
            _ = try await roomy.register(Self.request(options, authenticator.create(Self.options(options), origin: Self.origin)), user: ada)
        }
        #expect(try await roomy.passkeys(userID: ada.id).count == 12)
    }

    // MARK: Review mends

    @Test func aSignUpRetriedAfterACancelledPromptRenewsWithTheSpentCode() async throws {
        let email = "retry\(UUID().uuidString.prefix(6).lowercased())@example.com"
        guard case .code(_, let code) = try await passkeys.signUpMessage(email: email) else { Issue.record("no code"); return }
        let blank = AuthRequest(head: HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/"))
        let first = try await passkeys.signUpOptions(email: email, code: code, name: nil, request: blank)
        // The page posts the (spent) code again with the cookie of the first try: a new challenge, same user.
        let retry = try await passkeys.signUpOptions(email: email, code: code, name: nil, request: Self.request(first, [:]))
        #expect(retry.options["user"]?["id"] == first.options["user"]?["id"] && retry.options["challenge"] != first.options["challenge"])
        // Both challenges are good once; the second sign-up of the same user is refused cleanly.
        var authenticator = SoftAuthenticator()
        _ = try await passkeys.completeSignUp(Self.request(retry, authenticator.create(Self.options(retry), origin: Self.origin)))
        var other = SoftAuthenticator()
        await #expect(throws: AuthError.passkeyChallengeExpired) {
            try await passkeys.completeSignUp(Self.request(first, other.create(Self.options(first), origin: Self.origin)))
        }
        #expect(try await store.authenticator(credentialID: other.credentialID) == nil)
    }

    @Test func anExpiredOrMalformedSignUpCodeIsRefused() async throws {
        let email = "late\(UUID().uuidString.prefix(6).lowercased())@example.com"
        guard case .code(_, let code) = try await passkeys.signUpMessage(email: email) else { Issue.record("no code"); return }
        let blank = AuthRequest(head: HTTPRequest(method: .post, scheme: "https", authority: "app.example", path: "/"))
        for malformed in ["1234", "abcdefgh", "1234567890", "１２３４５６７８"] {
            await #expect(throws: AuthError.invalidVerification) { try await passkeys.signUpOptions(email: email, code: malformed, name: nil, request: blank) }
        }
        clock.advance(901)
        await #expect(throws: AuthError.invalidVerification) { try await passkeys.signUpOptions(email: email, code: code, name: nil, request: blank) }
    }

    @Test func aFlaggedPasskeyIsNeitherASecondFactorNorAWayIn() async throws {
        let ada = try await user()
        let first = try await registered(ada)
        let second = try await registered(ada)
        #expect(try await passkeys.hasPasskey(userID: ada.id))
        #expect(try await store.flagAuthenticator(credentialID: first.credentialID, at: clock.now))
        #expect(try await passkeys.hasPasskey(userID: ada.id), "the second still counts")
        // The one usable passkey is the last way in; the flagged one can always go.
        await #expect(throws: AuthError.lastSignInMethod) { try await passkeys.delete(credentialID: second.credentialID, userID: ada.id) }
        try await passkeys.delete(credentialID: first.credentialID, userID: ada.id)
        #expect(try await store.flagAuthenticator(credentialID: second.credentialID, at: clock.now))
        #expect(try await !passkeys.hasPasskey(userID: ada.id), "no usable passkey: the password alone signs in")
        try await passkeys.delete(credentialID: second.credentialID, userID: ada.id)
    }

    @Test func aPasskeyWhoseBackupEligibilityChangesIsRefused() async throws {
        let ada = try await user()
        var authenticator = try await registered(ada)
        authenticator.backupEligible = true
        let options = try await passkeys.authenticationOptions()
        await #expect(throws: AuthError.passkeyBackupEligibilityChanged) {
            try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin)))
        }
    }

    @Test func anAssertionFromACrossOriginFrameIsRefused() async throws {
        let ada = try await user()
        var authenticator = try await registered(ada)
        let options = try await passkeys.authenticationOptions()
        await #expect(throws: AuthError.passkeyOriginNotAllowed) {
            try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin, crossOrigin: true)))
        }
    }

    @Test func aDeletedUsersPasskeyAndAUserWithoutAProvedAddressAreRefused() async throws {
        let ada = try await user()
        var authenticator = try await registered(ada)
        #expect(try await store.deleteUser(id: ada.id))
        let options = try await passkeys.authenticationOptions()
        await #expect(throws: AuthError.passkeyUnknownCredential) {
            try await passkeys.authenticate(Self.request(options, authenticator.get(Self.options(options), origin: Self.origin)))
        }
        let unproved = AuthUser(email: "unproved\(UUID().uuidString.prefix(6))@example.com")
        try await store.createUser(unproved, account: nil)
        await #expect(throws: AuthError.emailNotVerified) { try await passkeys.registrationOptions(for: unproved) }
    }

    @Test func namesAndLifetimesAreBounded() {
        #expect(Passkeys.cleanName("  Laptop\u{0}\u{202E}  ") == "Laptop")
        #expect(Passkeys.cleanName(String(repeating: "x", count: 500))?.count == 64)
        #expect(Passkeys.cleanName(" \n\t ") == nil)
        var configuration = PasskeyConfiguration(relyingPartyName: "Sesame Tests")
        configuration.challengeLifetime = 86_400
        #expect(configuration.challengeLifetime == 300)
        configuration.challengeLifetime = 0
        #expect(configuration.challengeLifetime == 1)
    }
}
