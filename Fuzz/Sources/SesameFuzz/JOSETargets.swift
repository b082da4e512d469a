@testable import Sesame

/// The HMAC key the `jws` corpus is signed with (the seeds' valid tokens reach the claims).
let fuzzHMACKey = try! JWK(hmacSecret: "sesame-fuzz-hmac-secret-0123456789abcdef", algorithm: .hs256, keyID: "fuzz-hs")
/// An ES256 verification key (private scalar 7, see `Fuzz/make_corpus.py`), so that headers naming it reach ECDSA.
let fuzzECKey = try! JWK(json: #"{"kty":"EC","crv":"P-256","kid":"fuzz-ec","x":"jlM7b6C_e0YluzBmfAH7YH75-LioD-9bMAYocDGHsqM","y":"c-sdveAzGDZtBp-DpvWQAFPHNjPLBBshxV4ahsH0ALQ"}"#, algorithm: .es256)
let fuzzSigningKeys = try! KeySet(activeKey: fuzzHMACKey, verificationKeys: [fuzzECKey])
/// The content-encryption key the `jwe` corpus is encrypted with.
let fuzzEncryptionKey = try! JWK(symmetricKey: (0..<32).map { UInt8($0) }, algorithm: .a256gcm, keyID: "fuzz-enc")
let fuzzEncryptionKeys = try! KeySet(activeKey: fuzzEncryptionKey)

/// Each segment that decodes re-encodes to exactly its bytes: there is one spelling of a decoded segment, so a
/// token cannot be altered without altering what it decodes to.
func requireCanonicalSegments(_ compact: CompactToken) {
    for segment in 0..<compact.segmentCount {
        let encoded = compact.encoded(segment)
        guard let decoded = Base64URL.decode(encoded) else { continue }
        require(Array(Base64URL.encode(decoded).utf8) == Array(encoded), "segment \(segment) has a second spelling")
    }
}

/// Compact JWS: split, header, key selection, signature, then the claims of a token that verifies.
let jwsTarget = FuzzTarget(name: "jws") { bytes in
    guard let compact = try? CompactToken(bytes, maximumSize: JWS.defaultMaximumSize), !compact.isJWE else { return }
    requireCanonicalSegments(compact)
    guard let verified = try? JWS.verify(compact, keys: fuzzSigningKeys, understoodCriticalParameters: []) else { return }
    // A token that verifies carried this key's MAC over exactly these bytes, and its payload is its second segment.
    require(verified.key.keyID == fuzzHMACKey.keyID || verified.key.keyID == fuzzECKey.keyID, "verified under an unknown key")
    require((try? compact.decoded(1)) == verified.payload, "payload is not the second segment")
    let token = String(decoding: bytes, as: UTF8.self)
    // The claims read by the scanner are the claims a full parse reads, and each member reads the same alone.
    let validation = TokenValidation(requiresExpiration: false, now: { 1_800_000_000 })
    guard let jwt = try? JWT.verify(token, keys: fuzzSigningKeys, validation: validation) else { return }
    let payload = jwt.payload
    require((try? RegisteredClaims(payload)) == jwt.claims, "scanned claims differ from parsed claims")
    for name in payload.keys { require(jwt.claim(name) == payload[name], "member \(name) reads differently alone") }
}

/// Compact JWE (`dir` with A256GCM or A256CBC-HS512): split, header, decryption, then a round trip.
let jweTarget = FuzzTarget(name: "jwe") { bytes in
    guard let compact = try? CompactToken(bytes, maximumSize: JWS.defaultMaximumSize), compact.isJWE else { return }
    requireCanonicalSegments(compact)
    guard let decrypted = try? JWE.decrypt(compact, keys: fuzzEncryptionKeys, understoodCriticalParameters: []) else { return }
    // What decrypts was sealed under this key; sealing it again and opening that gives the same plaintext.
    let sealed = try! JWE.encrypt(decrypted.plaintext, key: fuzzEncryptionKey)
    require((try? JWE.decrypt(sealed, keys: fuzzEncryptionKeys))?.plaintext == decrypted.plaintext, "JWE round trip")
}
