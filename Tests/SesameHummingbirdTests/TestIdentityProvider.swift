import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
@testable import Sesame
import Synchronization

/// A small OpenID Connect provider for flow tests, served on a loopback port: discovery, an authorization
/// endpoint that approves at once, a token endpoint that checks the client, the code, the redirect URI and
/// PKCE, a JWKS and a user-info endpoint. Knobs make it misbehave in the ways a real provider might.
final class TestIdentityProvider: Sendable {
    enum IDTokenFault: Sendable {
        case none, wrongNonce, wrongIssuer, wrongAudience, expired, algNone, hmacWithPublicKey, badSignature, unknownKey, missingNonce
    }

    enum TokenFault: Sendable {
        case none, serverError, malformedJSON, noAccessToken, redirect
    }

    struct Code: Sendable {
        var clientID: String
        var redirectURI: String
        var challenge: String
        var nonce: String?
        var user: String
        var used: Bool
    }

    struct Knobs: Sendable {
        var idToken = IDTokenFault.none
        var token = TokenFault.none
        var authorizeError: String? = nil
        var sendsIssuer = true
        var advertisesIssuerParameter = true
        var rotatedKey: JWK? = nil
    }

    let port: Int
    let issuer: String
    let clientID = "sesame-test-client"
    let clientSecret = "s3cret-with-enough-entropy-for-tests"
    let key: JWK
    private let codes = Mutex<[String: Code]>([:])
    let knobs = Mutex(Knobs())
    private let tokenRequests = Mutex(0)
    /// The header fields of each token request (to see the trace context a traced client injects).
    let tokenRequestHeaders = Mutex<[HTTPFields]>([])
    private let jwksRequests = Mutex(0)
    var jwksRequestCount: Int { jwksRequests.withLock { $0 } }

    init(port: Int) throws {
        self.port = port
        self.issuer = "http://127.0.0.1:\(port)"
        self.key = try JWK.generate(.rs256, keyID: "idp-key-1")
    }

    var tokenRequestCount: Int { tokenRequests.withLock { $0 } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ in
            var document: JSONObject = [
                "issuer": .string(self.issuer),
                "authorization_endpoint": .string(self.issuer + "/authorize"),
                "token_endpoint": .string(self.issuer + "/token"),
                "userinfo_endpoint": .string(self.issuer + "/userinfo"),
                "jwks_uri": .string(self.issuer + "/jwks"),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            ]
            if self.knobs.withLock({ $0.advertisesIssuerParameter }) { document["authorization_response_iss_parameter_supported"] = true }
            return TestIdentityProvider.json(.object(document))
        }
        router.get("/jwks") { _, _ in
            self.jwksRequests.withLock { $0 += 1 }
            let keys = [self.knobs.withLock { $0.rotatedKey } ?? self.key].compactMap { try? $0.publicKey!.jsonObject() }
            return TestIdentityProvider.json(["keys": .array(keys.map(JSONValue.object))])
        }
        router.get("/authorize") { request, _ in try self.authorize(request) }
        router.post("/token") { request, _ in try await self.token(request) }
        router.get("/userinfo") { request, _ in
            guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer at-") else {
                return Response(status: .unauthorized)
            }
            let user = String(authorization.dropFirst("Bearer at-".count))
            return TestIdentityProvider.json(["sub": .string(user), "email": .string("\(user)@example.com"), "email_verified": true, "name": "Test User"])
        }
        return router
    }

    private func authorize(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        guard let redirectURI = query["redirect_uri"].map(String.init), let state = query["state"].map(String.init),
            query["client_id"].map(String.init) == clientID, query["response_type"] == "code",
            query["code_challenge_method"] == "S256", let challenge = query["code_challenge"].map(String.init)
        else { return Response(status: .badRequest) }
        var target = redirectURI
        if let error = knobs.withLock({ $0.authorizeError }) {
            target = URLEncodedForm.appending(name: "error", value: error, to: target)
            target = URLEncodedForm.appending(name: "state", value: state, to: target)
        } else {
            let code = "code-" + RandomToken.make(byteCount: 16)
            let user = query["login_hint"].map(String.init) ?? "alice"
            codes.withLock {
                $0[code] = Code(clientID: clientID, redirectURI: redirectURI, challenge: challenge, nonce: query["nonce"].map(String.init), user: user, used: false)
            }
            target = URLEncodedForm.appending(name: "code", value: code, to: target)
            target = URLEncodedForm.appending(name: "state", value: state, to: target)
        }
        if knobs.withLock({ $0.sendsIssuer }) { target = URLEncodedForm.appending(name: "iss", value: issuer, to: target) }
        return Response(status: .found, headers: [.location: target])
    }

    private func token(_ request: Request) async throws -> Response {
        tokenRequests.withLock { $0 += 1 }
        tokenRequestHeaders.withLock { $0.append(request.headers) }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 16)
        let form = URLEncodedForm(parsing: String(buffer: body))
        let expected = "Basic " + Data("\(clientID):\(clientSecret.addingPercentEncodingForQuery())".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else { return TestIdentityProvider.json(["error": "invalid_client"], status: .unauthorized) }
        switch knobs.withLock({ $0.token }) {
        case .serverError: return Response(status: .internalServerError)
        case .malformedJSON: return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: "{not json")))
        case .redirect: return Response(status: .found, headers: [.location: "http://127.0.0.1:1/steal"])
        case .noAccessToken: return TestIdentityProvider.json(["token_type": "Bearer"])
        case .none: break
        }
        guard form["grant_type"] == "authorization_code", let code = form["code"], let verifier = form["code_verifier"] else {
            return TestIdentityProvider.json(["error": "invalid_request"], status: .badRequest)
        }
        // A code is redeemed once; a replay is refused.
        let stored = codes.withLock { codes -> Code? in
            guard var entry = codes[code], !entry.used else { return nil }
            entry.used = true
            codes[code] = entry
            return entry
        }
        guard let stored, stored.redirectURI == form["redirect_uri"],
            Base64URL.encode(SHA256.hash(data: Array(verifier.utf8))) == stored.challenge
        else { return TestIdentityProvider.json(["error": "invalid_grant"], status: .badRequest) }
        let idToken = try makeIDToken(user: stored.user, nonce: stored.nonce)
        return TestIdentityProvider.json([
            "access_token": .string("at-\(stored.user)"), "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": "rt-1", "scope": "openid email profile", "id_token": .string(idToken),
        ])
    }

    func makeIDToken(user: String, nonce: String?) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let fault = knobs.withLock { $0.idToken }
        var claims: JSONObject = [
            "iss": .string(fault == .wrongIssuer ? "http://127.0.0.1:1" : issuer),
            "sub": .string(user), "aud": .string(fault == .wrongAudience ? "another-client" : clientID),
            "iat": .integer(now), "exp": .integer(fault == .expired ? now - 3600 : now + 300),
            "email": .string("\(user)@example.com"), "email_verified": true, "name": "Test User",
        ]
        if fault != .missingNonce, let nonce { claims["nonce"] = .string(fault == .wrongNonce ? "not-the-nonce" : nonce) }
        let payload = Base64URL.encode(JSONValue.object(claims).jsonBytes)
        switch fault {
        case .algNone:
            return Base64URL.encode(Array(#"{"alg":"none","kid":"idp-key-1"}"#.utf8)) + "." + payload + "."
        case .hmacWithPublicKey:
            let forged = try JWK(symmetricKey: Array(key.publicKey!.pemRepresentation!.utf8), algorithm: .hs256, keyID: key.keyID)
            return try JWS.sign(JSONValue.object(claims).jsonBytes, key: forged)
        case .badSignature:
            let token = try JWS.sign(JSONValue.object(claims).jsonBytes, key: key)
            return String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BA" : "AA")
        case .unknownKey:
            return try JWS.sign(JSONValue.object(claims).jsonBytes, key: JWK.generate(.rs256, keyID: "someone-else"))
        default:
            return try JWS.sign(JSONValue.object(claims).jsonBytes, key: knobs.withLock { $0.rotatedKey } ?? key)
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }
}
