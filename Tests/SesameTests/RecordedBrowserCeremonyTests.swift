import Foundation
import HTTPTypes
import Testing

@testable import Sesame

/// A registration and a sign-in that headless Chromium's virtual authenticator produced for the demo's options
/// (recorded by the browser test `test_chromiums_answers_to_sesames_options_verify_with_py_webauthn`, which also
/// verifies them with py_webauthn), verified here through the whole ``Passkeys`` path, with the recorded
/// challenges sealed in ceremony cookies as the demo issued them.
@Suite struct RecordedBrowserCeremonyTests {
    static func load() throws -> JSONValue {
        let url = try #require(Bundle.module.url(forResource: "chromium-virtual-authenticator", withExtension: "json", subdirectory: "Fixtures/webauthn"))
        return try JSONValue(parsing: Array(Data(contentsOf: url)))
    }

    static func request(_ challenge: PasskeyChallenge, _ passkeys: Passkeys, body: JSONValue) throws -> AuthRequest {
        var head = HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/auth/callback/passkey")
        head.headerFields[.cookie] = "sesame-webauthn=" + (try challenge.sealed(with: passkeys.challengeSealer))
        head.headerFields[.contentType] = "application/json"
        return AuthRequest(head: head, body: body.jsonBytes)
    }

    @Test func chromiumsRegistrationAndSignInVerify() async throws {
        let recording = try Self.load()
        let origin = try #require(recording["origin"]?.stringValue)
        let store = MemoryAccountStore()
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let passkeys = Passkeys(store: store, keys: keys, baseURL: origin, replay: MemoryReplayStore(), configuration: PasskeyConfiguration(relyingPartyName: "Sesame demo"))
        #expect(passkeys.relyingPartyID == "localhost")
        let registration = try #require(recording["registration"])
        let handle = try #require(registration["options"]?["user"]?["id"]?.stringValue.flatMap(Base64URL.decode))
        let user = AuthUser(
            id: String(decoding: handle, as: UTF8.self), email: registration["options"]?["user"]?["name"]?.stringValue, emailVerified: Date(), name: nil,
            image: nil, createdAt: Date(), updatedAt: Date(), payloadJSON: nil)
        try await store.createUser(user, account: nil)
        let expires = Int64(Date().timeIntervalSince1970) + 300

        let created = PasskeyChallenge(
            challenge: try #require(registration["options"]?["challenge"]?.stringValue.flatMap(Base64URL.decode)), purpose: .add, userID: user.id,
            email: nil, name: nil, returnTo: nil, expiresAt: expires)
        let passkey = try await passkeys.register(try Self.request(created, passkeys, body: try #require(registration["credential"])), user: user, name: "Chromium")
        #expect(passkey.userID == user.id && passkey.transports.contains("internal"))
        #expect(try COSEKey(bytes: passkey.publicKey).algorithm == .edDSA, "Chromium takes the first of the offered algorithms it has")

        let assertion = try #require(recording["assertion"])
        let challenge = try #require(assertion["options"]?["challenge"]?.stringValue.flatMap(Base64URL.decode))
        let signIn = PasskeyChallenge(challenge: challenge, purpose: .signIn, userID: nil, email: nil, name: nil, returnTo: nil, expiresAt: expires)
        let verified = try await passkeys.authenticate(try Self.request(signIn, passkeys, body: try #require(assertion["credential"])))
        #expect(verified.user.id == user.id && verified.userVerified && verified.passkey.counter > passkey.counter)

        // The same recorded assertion under a challenge of its own (a fresh cookie): the client data names another.
        let other = PasskeyChallenge(challenge: [UInt8](repeating: 9, count: 32), purpose: .signIn, userID: nil, email: nil, name: nil, returnTo: nil, expiresAt: expires)
        await #expect(throws: AuthError.passkeyChallengeMismatch) { try await passkeys.authenticate(try Self.request(other, passkeys, body: try #require(assertion["credential"]))) }
        // And on a site with another origin (same RP ID): refused.
        let elsewhere = Passkeys(store: store, keys: keys, baseURL: "http://localhost:1", replay: MemoryReplayStore(), configuration: PasskeyConfiguration(relyingPartyName: "Other"))
        await #expect(throws: AuthError.passkeyOriginNotAllowed) { try await elsewhere.authenticate(try Self.request(signIn, elsewhere, body: try #require(assertion["credential"]))) }
    }
}
