import Crypto
import Testing
@testable import Sesame

/// Published examples from the JOSE RFCs, for the algorithms Sesame implements.
@Suite struct RFCVectorTests {
    @Test func rfc7520RS256() throws {
        let key = try JWK(json: RFCVectors.rfc7520RSAPublicJWK)
        #expect(key.keyID == "bilbo.baggins@hobbiton.example")
        #expect(key.algorithm == .rs256)
        let verified = try JWS.verify(RFCVectors.rfc7520RS256Compact, keys: KeySet(verificationKeys: [key]))
        #expect(verified.payload == Array(RFCVectors.rfc7520Payload.utf8))
        // PKCS#1 v1.5 is deterministic: the private key reproduces the published signature.
        let privateKey = try JWK(json: RFCVectors.rfc7520RSAPrivateJWK)
        #expect(try JWS.sign(Array(RFCVectors.rfc7520Payload.utf8), key: privateKey) == RFCVectors.rfc7520RS256Compact)
    }

    @Test func rfc7520HS256() throws {
        let key = try JWK(json: RFCVectors.rfc7520HMACJWK, algorithm: .hs256)
        let verified = try JWS.verify(RFCVectors.rfc7520HS256Compact, keys: KeySet(verificationKeys: [key]))
        #expect(verified.payload == Array(RFCVectors.rfc7520Payload.utf8))
        #expect(try JWS.sign(Array(RFCVectors.rfc7520Payload.utf8), key: key) == RFCVectors.rfc7520HS256Compact)
    }

    @Test func rfc7515AppendixA() throws {
        let hmac = try JWK(json: RFCVectors.rfc7515A1HMACJWK, algorithm: .hs256)
        #expect(try JWS.verify(RFCVectors.rfc7515A1Compact, keys: KeySet(verificationKeys: [hmac])).payload == Array(RFCVectors.rfc7515Payload.utf8))
        let rsa = try JWK(json: RFCVectors.rfc7515A2RSAPrivateJWK)
        #expect(try JWS.verify(RFCVectors.rfc7515A2Compact, keys: KeySet(verificationKeys: [rsa.publicKey!])).payload == Array(RFCVectors.rfc7515Payload.utf8))
        let ec = try JWK(json: RFCVectors.rfc7515A3ECPrivateJWK)
        #expect(ec.algorithm == .es256)
        #expect(try JWS.verify(RFCVectors.rfc7515A3Compact, keys: KeySet(verificationKeys: [ec.publicKey!])).payload == Array(RFCVectors.rfc7515Payload.utf8))
        // The A.3 token under another P-256 key fails.
        #expect(throws: TokenError.invalidSignature) { try JWS.verify(RFCVectors.rfc7515A3Compact, keys: KeySet(verificationKeys: [JWK.generate(.es256)])) }
    }

    @Test func rfc8037Ed25519() throws {
        let privateKey = try JWK(json: RFCVectors.rfc8037A1PrivateJWK)
        let publicKey = try JWK(json: RFCVectors.rfc8037A2PublicJWK)
        #expect(publicKey.thumbprint == RFCVectors.rfc8037A3Thumbprint)
        #expect(privateKey.thumbprint == RFCVectors.rfc8037A3Thumbprint)
        #expect(Array(SHA256.hash(data: Array(RFCVectors.rfc8037A3ThumbprintInput.utf8))) == hexBytes(RFCVectors.rfc8037A3ThumbprintSHA256Hex))
        let verified = try JWS.verify(RFCVectors.rfc8037A4Compact, keys: KeySet(verificationKeys: [publicKey]))
        #expect(verified.payload == Array(RFCVectors.rfc8037A4Payload.utf8))
        // Ed25519 is deterministic: signing reproduces the published signature (the header has no kid here).
        let parts = RFCVectors.rfc8037A4Compact.split(separator: ".")
        let signature = try privateKey.signature(for: Array("\(parts[0]).\(parts[1])".utf8))
        #expect(Base64URL.encode(signature) == String(parts[2]))
    }

    @Test func rfc7638Thumbprint() throws {
        let key = try JWK(json: RFCVectors.rfc7638RSAJWK)
        #expect(key.thumbprint == RFCVectors.rfc7638Thumbprint)
        #expect(key.keyID == "2011-04-29")
        // Without a kid, the thumbprint becomes the key ID.
        var object = try JSONValue(parsing: RFCVectors.rfc7638RSAJWK).objectValue!
        object["kid"] = nil
        #expect(try JWK(jsonObject: object).keyID == RFCVectors.rfc7638Thumbprint)
    }
}
