import Foundation
import Testing
@testable import Sesame

@Suite struct JOSETests {
    static let signingAlgorithms: [KeyAlgorithm] = [.es256, .es384, .edDSA, .rs256, .ps256, .hs256, .hs384, .hs512]
    static let clock = TestClock()
    static var validation: TokenValidation { TokenValidation(now: clock.function) }

    static func claims(_ extra: JSONObject = [:], lifetime: Double = 600) -> JSONObject {
        var object: JSONObject = ["sub": "user-1", "iat": .integer(Int64(clock.now)), "exp": .integer(Int64(clock.now + lifetime))]
        for member in extra { object[member.key] = member.value }
        return object
    }

    // MARK: Round trips

    @Test(arguments: signingAlgorithms)
    func signsAndVerifies(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let keys = try KeySet(activeKey: key)
        let token = try JWT.issue(Self.claims(), key: key)
        let verified = try JWT.verify(token, keys: keys, validation: Self.validation)
        #expect(verified.claims.subject == "user-1")
        #expect(verified.header.algorithm == algorithm.name)
        #expect(verified.header.keyID == key.keyID)
        // The public half alone verifies asymmetric tokens.
        if let publicKey = key.publicKey {
            #expect(!publicKey.isPrivate)
            #expect(try JWT.verify(token, keys: KeySet(verificationKeys: [publicKey]), validation: Self.validation).key.keyID == key.keyID)
        }
    }

    @Test(arguments: [KeyAlgorithm.a256gcm, .a256cbcHS512])
    func encryptsAndDecrypts(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let token = try JWT.issue(Self.claims(["secret": "hidden"]), key: key)
        #expect(token.split(separator: ".", omittingEmptySubsequences: false).count == 5)
        #expect(!token.contains(Base64URL.encode(Array("hidden".utf8))))
        let verified = try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation)
        #expect(verified.payload["secret"] == "hidden")
        #expect(verified.header.encryption == algorithm.name)
        #expect(verified.header.algorithm == "dir")
    }

    @Test func aesCBCHMACMatchesRFC7518B3() throws {
        let key = JWK.Material.symmetric(.init(data: hexBytes(RFCVectors.rfc7518B3KHex)))
        guard case .symmetric(let secret) = key else { return }
        let (ciphertext, tag) = try AESCBCHMAC.seal(
            hexBytes(RFCVectors.rfc7518B3PHex), key: secret, iv: hexBytes(RFCVectors.rfc7518B3IVHex), additionalData: hexBytes(RFCVectors.rfc7518B3AHex))
        #expect(ciphertext == hexBytes(RFCVectors.rfc7518B3EHex))
        #expect(tag == hexBytes(RFCVectors.rfc7518B3THex))
        let opened = AESCBCHMAC.open(
            ciphertext: ciphertext, tag: tag, key: secret, iv: hexBytes(RFCVectors.rfc7518B3IVHex), additionalData: hexBytes(RFCVectors.rfc7518B3AHex))
        #expect(opened == hexBytes(RFCVectors.rfc7518B3PHex))
        var badTag = tag
        badTag[0] ^= 1
        #expect(AESCBCHMAC.open(ciphertext: ciphertext, tag: badTag, key: secret, iv: hexBytes(RFCVectors.rfc7518B3IVHex), additionalData: []) == nil)
    }

    // MARK: Rejections, one per error case

    @Test func rejectsAlgNone() throws {
        let key = try JWK.generate(.es256)
        for alg in ["none", "None", "NONE"] {
            let unsigned = try Forge.jws(header: ["alg": .string(alg), "kid": .string(key.keyID)], payload: .object(Self.claims()), key: nil, signature: [])
            #expect(throws: TokenError.algorithmNone) { try JWT.verify(unsigned, keys: KeySet(activeKey: key), validation: Self.validation) }
        }
    }

    @Test func rejectsHS256SignedWithTheRSAPublicKeyPEM() throws {
        let rsa = try JWK.generate(.rs256)
        let publicPEM = rsa.publicKey!.pemRepresentation!
        // Sesame itself refuses to build an HMAC key out of PEM text …
        #expect(throws: TokenError.invalidKey) { try JWK(hmacSecret: publicPEM) }
        // … and a token forged that way (the classic algorithm confusion) is rejected: the key decides the algorithm.
        let forgedKey = try JWK(symmetricKey: Array(publicPEM.utf8), algorithm: .hs256, keyID: rsa.keyID)
        let forged = try Forge.jws(header: ["alg": "HS256", "kid": .string(rsa.keyID)], payload: .object(Self.claims()), key: forgedKey)
        let verifier = try KeySet(verificationKeys: [rsa.publicKey!])
        #expect(throws: TokenError.algorithmMismatch) { try JWT.verify(forged, keys: verifier, validation: Self.validation) }
        // Also without a kid, against a one-key set.
        let forgedNoKid = try Forge.jws(header: ["alg": "HS256"], payload: .object(Self.claims()), key: forgedKey)
        #expect(throws: TokenError.algorithmMismatch) { try JWT.verify(forgedNoKid, keys: verifier, validation: Self.validation) }
    }

    @Test func rejectsUnknownKeyIDWithoutFallback() throws {
        let key = try JWK.generate(.es256)
        let other = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(), key: other)
        // Even a one-key set does not fall back to its only key when the kid names another.
        #expect(throws: TokenError.unknownKeyID) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation) }
    }

    @Test func requiresKeyIDWhenTheSetHasSeveralKeys() throws {
        let first = try JWK.generate(.es256), second = try JWK.generate(.es256)
        let noKid = try Forge.jws(header: ["alg": "ES256"], payload: .object(Self.claims()), key: first)
        #expect(throws: TokenError.missingKeyID) {
            try JWT.verify(noKid, keys: KeySet(activeKey: first, verificationKeys: [second]), validation: Self.validation)
        }
        // With exactly one key, a token without kid is checked against it.
        #expect(throws: Never.self) { try JWT.verify(noKid, keys: KeySet(activeKey: first), validation: Self.validation) }
    }

    @Test func rotationVerifiesOldKeysAndSignsWithTheNewOne() throws {
        let old = try JWK.generate(.es256), new = try JWK.generate(.edDSA)
        let oldToken = try JWT.issue(Self.claims(), key: old)
        let rotated = try KeySet(activeKey: new, verificationKeys: [old.publicKey!])
        #expect(try JWT.verify(oldToken, keys: rotated, validation: Self.validation).key.keyID == old.keyID)
        #expect(try rotated.signingKey().keyID == new.keyID)
    }

    @Test func rejectsAnAlgorithmOtherThanTheKeys() throws {
        let rsa = try JWK.generate(.rs256)
        // The same RSA material presented as PS256 is not accepted by an RS256-bound key.
        let asPSS = try JWK(pem: rsa.pemRepresentation!, algorithm: .ps256, keyID: rsa.keyID)
        let token = try JWT.issue(Self.claims(), key: asPSS)
        #expect(throws: TokenError.algorithmMismatch) { try JWT.verify(token, keys: KeySet(activeKey: rsa), validation: Self.validation) }
    }

    @Test func rejectsUnsupportedAlgorithm() throws {
        let key = try JWK.generate(.es256)
        let token = try Forge.jws(header: ["alg": "ES512", "kid": .string(key.keyID)], payload: .object(Self.claims()), key: nil, signature: [1, 2, 3])
        #expect(throws: TokenError.unsupportedAlgorithm) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation) }
    }

    @Test func rejectsWrongAudience() throws {
        let key = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(["aud": ["other-app", "third"]]), key: key)
        var validation = Self.validation
        validation.audience = "my-app"
        #expect(throws: TokenError.invalidAudience) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: validation) }
        validation.audience = "third"
        #expect(throws: Never.self) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: validation) }
        let missing = try JWT.issue(Self.claims(), key: key)
        #expect(throws: TokenError.invalidAudience) { try JWT.verify(missing, keys: KeySet(activeKey: key), validation: validation) }
    }

    @Test func rejectsWrongIssuer() throws {
        let key = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(["iss": "https://evil.example"]), key: key)
        var validation = Self.validation
        validation.issuer = "https://auth.example"
        #expect(throws: TokenError.invalidIssuer) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: validation) }
        // Exact comparison: a prefix or a trailing slash is another issuer.
        let slash = try JWT.issue(Self.claims(["iss": "https://auth.example/"]), key: key)
        #expect(throws: TokenError.invalidIssuer) { try JWT.verify(slash, keys: KeySet(activeKey: key), validation: validation) }
    }

    @Test func rejectsExpiredTokensBeyondTheLeeway() throws {
        let key = try JWK.generate(.es256)
        let keys = try KeySet(activeKey: key)
        let now = Self.clock.now
        let expiredLongAgo = try JWT.issue(Self.claims(["exp": .integer(Int64(now - 61))]), key: key)
        #expect(throws: TokenError.expired) { try JWT.verify(expiredLongAgo, keys: keys, validation: Self.validation) }
        let withinLeeway = try JWT.issue(Self.claims(["exp": .integer(Int64(now - 30))]), key: key)
        #expect(throws: Never.self) { try JWT.verify(withinLeeway, keys: keys, validation: Self.validation) }
        var strict = Self.validation
        strict.leeway = 0
        #expect(throws: TokenError.expired) { try JWT.verify(withinLeeway, keys: keys, validation: strict) }
    }

    @Test func rejectsNotBeforeInTheFuture() throws {
        let key = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(["nbf": .integer(Int64(Self.clock.now + 120))]), key: key)
        #expect(throws: TokenError.notYetValid) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation) }
    }

    @Test func rejectsIssuedInTheFuture() throws {
        let key = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(["iat": .integer(Int64(Self.clock.now + 3600))]), key: key)
        #expect(throws: TokenError.issuedInFuture) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation) }
    }

    @Test func requiresExpiration() throws {
        let key = try JWK.generate(.es256)
        var claims = Self.claims()
        claims["exp"] = nil
        let token = try JWT.issue(claims, key: key)
        #expect(throws: TokenError.missingClaim) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation) }
    }

    @Test func rejectsMistypedClaims() throws {
        let key = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(["exp": "tomorrow"]), key: key)
        #expect(throws: TokenError.invalidClaim) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: Self.validation) }
        let badAudience = try JWT.issue(Self.claims(["aud": [1, 2]]), key: key)
        #expect(throws: TokenError.invalidClaim) { try JWT.verify(badAudience, keys: KeySet(activeKey: key), validation: Self.validation) }
    }

    @Test(arguments: signingAlgorithms)
    func rejectsTamperedHeaderPayloadAndSignature(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let keys = try KeySet(activeKey: key)
        let token = try JWT.issue(Self.claims(), key: key)

        var header = Forge.decodeSegment(token, 0).objectValue!
        header["typ"] = "JWT"
        let tamperedHeader = Forge.replacingSegment(token, 0, with: Base64URL.encode(JSONValue.object(header).jsonBytes))
        #expect(throws: TokenError.invalidSignature) { try JWT.verify(tamperedHeader, keys: keys, validation: Self.validation) }

        var payload = Forge.decodeSegment(token, 1).objectValue!
        payload["sub"] = "admin"
        let tamperedPayload = Forge.replacingSegment(token, 1, with: Base64URL.encode(JSONValue.object(payload).jsonBytes))
        #expect(throws: TokenError.invalidSignature) { try JWT.verify(tamperedPayload, keys: keys, validation: Self.validation) }

        var signature = Base64URL.decode(token.split(separator: ".")[2])!
        signature[signature.count / 2] ^= 0x01
        let tamperedSignature = Forge.replacingSegment(token, 2, with: Base64URL.encode(signature))
        #expect(throws: TokenError.invalidSignature) { try JWT.verify(tamperedSignature, keys: keys, validation: Self.validation) }
    }

    @Test func rejectsTruncatedTokens() throws {
        let key = try JWK.generate(.es256)
        let keys = try KeySet(activeKey: key)
        let token = try JWT.issue(Self.claims(), key: key)
        let parts = token.split(separator: ".")
        // Cut at a segment boundary: the compact shape is wrong.
        #expect(throws: TokenError.malformedToken) { try JWT.verify("\(parts[0]).\(parts[1])", keys: keys, validation: Self.validation) }
        #expect(throws: TokenError.malformedToken) { try JWT.verify(String(parts[0]), keys: keys, validation: Self.validation) }
        // Cut inside the signature: a signature that is too short is invalid, and a cut that leaves an
        // impossible base64url length is caught while decoding.
        let signature = Base64URL.decode(parts[2])!
        let shortened = "\(parts[0]).\(parts[1]).\(Base64URL.encode(signature.dropLast(3)))"
        #expect(throws: TokenError.invalidSignature) { try JWT.verify(shortened, keys: keys, validation: Self.validation) }
        #expect(parts[2].count % 4 == 2)
        #expect(throws: TokenError.invalidBase64URL) { try JWT.verify(String(token.dropLast(1)), keys: keys, validation: Self.validation) }
        // An empty signature.
        #expect(throws: TokenError.invalidSignature) { try JWT.verify("\(parts[0]).\(parts[1]).", keys: keys, validation: Self.validation) }
        #expect(throws: TokenError.malformedToken) { try JWT.verify("", keys: keys, validation: Self.validation) }
    }

    @Test func rejectsOversizedTokensBeforeParsing() throws {
        let key = try JWK.generate(.es256)
        let keys = try KeySet(activeKey: key)
        let big = try JWT.issue(Self.claims(["padding": .string(String(repeating: "x", count: 9000))]), key: key)
        #expect(throws: TokenError.tokenTooLarge) { try JWT.verify(big, keys: keys, validation: Self.validation) }
        // Not even parsed: garbage of that size is reported as too large, not as malformed.
        #expect(throws: TokenError.tokenTooLarge) { try JWT.verify(String(repeating: "!", count: 8193), keys: keys, validation: Self.validation) }
        var generous = Self.validation
        generous.maximumTokenSize = 64 * 1024
        #expect(throws: Never.self) { try JWT.verify(big, keys: keys, validation: generous) }
    }

    @Test func rejectsBadBase64() throws {
        let key = try JWK.generate(.es256)
        let keys = try KeySet(activeKey: key)
        let token = try JWT.issue(Self.claims(), key: key)
        let parts = token.split(separator: ".").map(String.init)
        for bad in ["\(parts[0])=.\(parts[1]).\(parts[2])", "\(parts[0]).\(parts[1])+.\(parts[2])", "\(parts[0]).\(parts[1]).\(parts[2])=", "\(parts[0]).\(parts[1]).\(parts[2].dropLast())*"] {
            #expect(throws: TokenError.invalidBase64URL) { try JWT.verify(bad, keys: keys, validation: Self.validation) }
        }
    }

    @Test func rejectsMalformedHeaderAndPayload() throws {
        let key = try JWK.generate(.hs256)
        let keys = try KeySet(activeKey: key)
        let noAlg = try Forge.jws(header: ["kid": .string(key.keyID)], payload: .object(Self.claims()), key: key)
        #expect(throws: TokenError.invalidHeader) { try JWT.verify(noAlg, keys: keys, validation: Self.validation) }
        let notObject = Base64URL.encode(Array("[1]".utf8)) + "." + Base64URL.encode(Array("{}".utf8)) + ".AA"
        #expect(throws: TokenError.invalidHeader) { try JWT.verify(notObject, keys: keys, validation: Self.validation) }
        let arrayPayload = try Forge.jws(header: ["alg": "HS256", "kid": .string(key.keyID)], payload: [1, 2], key: key)
        #expect(throws: TokenError.invalidPayload) { try JWT.verify(arrayPayload, keys: keys, validation: Self.validation) }
    }

    @Test func rejectsAmbiguousPayloads() throws {
        let key = try JWK.generate(.hs256)
        let keys = try KeySet(activeKey: key)
        let header = Base64URL.encode(Array(#"{"alg":"HS256"}"#.utf8))
        func token(_ payload: String) throws -> String {
            let input = header + "." + Base64URL.encode(Array(payload.utf8))
            return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)))
        }
        let exp = Int64(Self.clock.now + 600)
        // The same claim twice, also when one spelling is escaped: which one would count is ambiguous.
        let ambiguous = [
            #"{"exp":\#(exp),"exp":1}"#,
            #"{"exp":\#(exp),"\u0065xp":1}"#,
            #"{"exp":\#(exp),"a":{"b":1,"b":2}}"#,
            #"{"exp":\#(exp),"a":[{"c":1},{"d":2,"d":3}]}"#,
            #"{"exp":\#(exp)} "x""#,
            #"{"exp":\#(exp),"s":"\ud800"}"#,
        ]
        for payload in ambiguous {
            #expect(throws: TokenError.invalidPayload, "\(payload)") { try JWT.verify(token(payload), keys: keys, validation: Self.validation) }
        }
        // Sibling objects may reuse names, objects with many members work, and escaped names are read.
        let many = (0..<80).map { "\"m\($0)\":{\"x\":\($0)}" }.joined(separator: ",")
        let verified = try JWT.verify(
            token(#"{"\u0065xp":\#(exp),"a":{"b":1},"c":{"b":2},"sub":"caf\u00e9",\#(many)}"#), keys: keys, validation: Self.validation)
        #expect(verified.claims.expiresAt == Double(exp))
        #expect(verified.claims.subject == "café")
        #expect(verified.claim("m79") == ["x": 79])
        #expect(verified.claim("c") == ["b": 2])
        #expect(verified.claim("missing") == nil)
        #expect(verified.payload.count == 84)
    }

    @Test func rejectsUnknownCriticalHeaders() throws {
        let key = try JWK.generate(.es256)
        let keys = try KeySet(activeKey: key)
        let token = try Forge.jws(header: ["alg": "ES256", "kid": .string(key.keyID), "crit": ["exp"], "exp": 1], payload: .object(Self.claims()), key: key)
        #expect(throws: TokenError.unknownCriticalHeader) { try JWT.verify(token, keys: keys, validation: Self.validation) }
        var understood = Self.validation
        understood.understoodCriticalParameters = ["exp"]
        #expect(throws: Never.self) { try JWT.verify(token, keys: keys, validation: understood) }
        // RFC 7797's unencoded payload is a crit extension Sesame does not implement.
        let b64 = try Forge.jws(header: ["alg": "ES256", "kid": .string(key.keyID), "b64": false, "crit": ["b64"]], payload: .object(Self.claims()), key: key)
        #expect(throws: TokenError.unknownCriticalHeader) { try JWT.verify(b64, keys: keys, validation: Self.validation) }
    }

    @Test func embeddedKeysNeverSelectTheKey() throws {
        let trusted = try JWK.generate(.es256)
        let attacker = try JWK.generate(.es256)
        let embedded = try attacker.publicKey!.jsonObject()
        // A token signed by the attacker's key, carrying that key in `jwk` and pointing `jku`/`x5u` elsewhere.
        let token = try Forge.jws(
            header: ["alg": "ES256", "jwk": .object(embedded), "jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert"],
            payload: .object(Self.claims()), key: attacker)
        #expect(throws: TokenError.invalidSignature) { try JWT.verify(token, keys: KeySet(activeKey: trusted), validation: Self.validation) }
    }

    @Test func rejectsJWEUnderTheWrongKey() throws {
        let key = try JWK.generate(.a256gcm)
        let sameID = try JWK(symmetricKey: (0..<32).map { _ in UInt8.random(in: 0...255) }, algorithm: .a256gcm, keyID: key.keyID)
        let token = try JWT.issue(Self.claims(), key: key)
        #expect(throws: TokenError.decryptionFailed) { try JWT.verify(token, keys: KeySet(activeKey: sameID), validation: Self.validation) }
        let cbc = try JWK.generate(.a256cbcHS512)
        let cbcToken = try JWT.issue(Self.claims(), key: cbc)
        let cbcSameID = try JWK(symmetricKey: (0..<64).map { _ in UInt8.random(in: 0...255) }, algorithm: .a256cbcHS512, keyID: cbc.keyID)
        #expect(throws: TokenError.decryptionFailed) { try JWT.verify(cbcToken, keys: KeySet(activeKey: cbcSameID), validation: Self.validation) }
        // A key of the other content-encryption algorithm is an algorithm mismatch.
        let gcmWithCBCID = try JWK(symmetricKey: (0..<32).map { _ in 7 }, algorithm: .a256gcm, keyID: cbc.keyID)
        #expect(throws: TokenError.algorithmMismatch) { try JWT.verify(cbcToken, keys: KeySet(activeKey: gcmWithCBCID), validation: Self.validation) }
    }

    @Test(arguments: [KeyAlgorithm.a256gcm, .a256cbcHS512])
    func rejectsTamperedJWE(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let keys = try KeySet(activeKey: key)
        let token = try JWT.issue(Self.claims(), key: key)
        for segment in [2, 3, 4] {
            var bytes = Base64URL.decode(token.split(separator: ".", omittingEmptySubsequences: false)[segment])!
            bytes[0] ^= 0x80
            let tampered = Forge.replacingSegment(token, segment, with: Base64URL.encode(bytes))
            #expect(throws: TokenError.decryptionFailed) { try JWT.verify(tampered, keys: keys, validation: Self.validation) }
        }
        // The protected header is authenticated too.
        var header = Forge.decodeSegment(token, 0).objectValue!
        header["typ"] = "JWT"
        let tamperedHeader = Forge.replacingSegment(token, 0, with: Base64URL.encode(JSONValue.object(header).jsonBytes))
        #expect(throws: TokenError.decryptionFailed) { try JWT.verify(tamperedHeader, keys: keys, validation: Self.validation) }
        // `dir` carries no encrypted key, and compressed payloads are refused.
        let withKey = Forge.replacingSegment(token, 1, with: "AAAA")
        #expect(throws: TokenError.malformedToken) { try JWT.verify(withKey, keys: keys, validation: Self.validation) }
        header = Forge.decodeSegment(token, 0).objectValue!
        header["zip"] = "DEF"
        let zipped = Forge.replacingSegment(token, 0, with: Base64URL.encode(JSONValue.object(header).jsonBytes))
        #expect(throws: TokenError.unsupportedAlgorithm) { try JWT.verify(zipped, keys: keys, validation: Self.validation) }
    }

    @Test func signingKeysDoNotDecryptAndEncryptionKeysDoNotVerify() throws {
        let signing = try JWK.generate(.hs256)
        let encrypting = try JWK.generate(.a256gcm)
        let jwe = try JWT.issue(Self.claims(), key: encrypting)
        let jws = try JWT.issue(Self.claims(), key: signing)
        let signingOnly = try KeySet(activeKey: signing)
        let encryptionOnly = try KeySet(activeKey: encrypting)
        #expect(throws: TokenError.unknownKeyID) { try JWT.verify(jwe, keys: signingOnly, validation: Self.validation) }
        #expect(throws: TokenError.unknownKeyID) { try JWT.verify(jws, keys: encryptionOnly, validation: Self.validation) }
        let jweWithSigningID = try JWE.encrypt(Array("{}".utf8), key: JWK(symmetricKey: Array(repeating: 1, count: 32), algorithm: .a256gcm, keyID: signing.keyID))
        #expect(throws: TokenError.algorithmMismatch) { try JWT.verify(jweWithSigningID, keys: signingOnly, validation: Self.validation) }
    }

    @Test func checksTheTokenType() throws {
        let key = try JWK.generate(.es256)
        let token = try JWT.issue(Self.claims(), key: key, type: "sesame-link+jwt")
        var validation = Self.validation
        validation.type = "sesame-flow+jwt"
        #expect(throws: TokenError.wrongTokenType) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: validation) }
        validation.type = "SESAME-LINK+JWT"
        #expect(throws: Never.self) { try JWT.verify(token, keys: KeySet(activeKey: key), validation: validation) }
    }
}
