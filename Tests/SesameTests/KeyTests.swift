import Foundation
import Testing
@testable import Sesame

@Suite struct KeyTests {
    @Test(arguments: KeyAlgorithm.all)
    func jwkRoundTripKeepsKeyIDAndMaterial(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let restored = try JWK(json: key.json(includingPrivate: true))
        #expect(restored.keyID == key.keyID)
        #expect(restored.algorithm == algorithm)
        #expect(restored.isPrivate)
        #expect(restored.thumbprint == key.thumbprint)
        if algorithm.isSigning {
            // The restored private key produces signatures the original's public half accepts.
            let token = try JWS.sign(Array("{}".utf8), key: restored)
            #expect(throws: Never.self) { try JWS.verify(token, keys: KeySet(verificationKeys: [key.publicKey ?? key])) }
        }
    }

    @Test(arguments: [KeyAlgorithm.es256, .es384, .edDSA, .rs256, .ps256])
    func publicExportHasNoPrivateMembers(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let object = try key.jsonObject()
        for member in ["d", "p", "q", "dp", "dq", "qi", "k"] { #expect(object[member] == nil) }
        #expect(object["kid"] == .string(key.keyID))
        #expect(object["alg"] == .string(algorithm.name))
        #expect(object["use"] == "sig")
        #expect(key.keyID == key.thumbprint)
    }

    @Test(arguments: [(KeyAlgorithm.a256gcm, 32), (.a256cbcHS512, 64)])
    func directEncryptionKeysExportAsDir(_ algorithm: KeyAlgorithm, size: Int) throws {
        let key = try JWK.generate(algorithm)
        var object = try key.jsonObject(includingPrivate: true)
        #expect(object["alg"] == "dir")
        #expect(object["enc"] == .string(algorithm.name))
        #expect(object["use"] == "enc")
        #expect(Base64URL.decode(object["k"]!.stringValue!)?.count == size)
        // Without `enc`, the key size tells the algorithm.
        object["enc"] = nil
        #expect(try JWK(jsonObject: object).algorithm == algorithm)
        object["enc"] = "A128GCM"
        #expect(throws: TokenError.invalidKey) { try JWK(jsonObject: object) }
    }

    @Test func symmetricKeysHaveNoPublicForm() throws {
        let key = try JWK.generate(.hs256)
        #expect(key.publicKey == nil)
        #expect(throws: TokenError.invalidKey) { try key.jsonObject() }
        let set = try KeySet(activeKey: key, verificationKeys: [JWK.generate(.es256).publicKey!])
        let published = try JSONValue(parsing: set.jwks())
        #expect(published["keys"]?.arrayValue?.count == 1)
        #expect(!set.jwks().contains("\"k\""))
    }

    @Test(arguments: [KeyAlgorithm.es256, .es384, .edDSA, .rs256])
    func pemRoundTrip(_ algorithm: KeyAlgorithm) throws {
        let key = try JWK.generate(algorithm)
        let privatePEM = try #require(key.pemRepresentation)
        #expect(privatePEM.contains("PRIVATE KEY"))
        let restored = try JWK(pem: privatePEM)
        #expect(restored.algorithm == algorithm)
        #expect(restored.keyID == key.keyID)
        let publicPEM = try #require(key.publicKey?.pemRepresentation)
        let publicKey = try JWK(pem: publicPEM)
        #expect(!publicKey.isPrivate)
        #expect(publicKey.keyID == key.keyID)
    }

    @Test func rejectsMalformedAndWeakKeys() throws {
        #expect(throws: TokenError.invalidKey) { try JWK(json: "not json") }
        #expect(throws: TokenError.invalidKey) { try JWK(json: #"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#) }
        #expect(throws: TokenError.invalidKey) { try JWK(json: #"{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}"#) }
        #expect(throws: TokenError.invalidKey) { try JWK(json: #"{"kty":"oct","k":"c2VjcmV0"}"#) }  // no alg
        #expect(throws: TokenError.invalidKey) { try JWK(json: #"{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}"#) }  // 6 bytes
        #expect(throws: TokenError.invalidKey) { try JWK(json: #"{"kty":"oct","k":"c2VjcmV0","alg":"none"}"#) }
        #expect(throws: TokenError.invalidKey) { try JWK(hmacSecret: "short") }
        #expect(throws: TokenError.invalidKey) { try JWK(hmacSecret: #"{"kty":"oct","k":"…"}"#) }
        #expect(throws: TokenError.invalidKey) { try JWK(symmetricKey: [UInt8](repeating: 1, count: 31), algorithm: .a256gcm) }
        #expect(throws: TokenError.invalidKey) { try JWK(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") }
        // A key's declared alg must fit its type.
        let ec = try JWK.generate(.es256)
        var object = try ec.jsonObject()
        object["alg"] = "RS256"
        #expect(throws: TokenError.invalidKey) { try JWK(jsonObject: object) }
        // A private scalar that does not belong to the public point is refused.
        var mismatched = try ec.jsonObject(includingPrivate: true)
        mismatched["d"] = try JWK.generate(.es256).jsonObject(includingPrivate: true)["d"]
        #expect(throws: TokenError.invalidKey) { try JWK(jsonObject: mismatched) }
    }

    @Test func keySetRejectsDuplicateIDsAndVerifyOnlyActiveKeys() throws {
        let key = try JWK.generate(.es256)
        #expect(throws: TokenError.invalidKey) { try KeySet(activeKey: key, verificationKeys: [key.publicKey!]) }
        #expect(throws: TokenError.invalidKey) { try KeySet(activeKey: key.publicKey!) }
        #expect(throws: TokenError.keyNotConfigured) { try KeySet(verificationKeys: [key.publicKey!]).signingKey() }
    }

    @Test func jwksImportAndExport() throws {
        let es = try JWK.generate(.es256), ed = try JWK.generate(.edDSA), rsa = try JWK.generate(.ps256)
        let set = try KeySet(activeKey: es, verificationKeys: [ed, rsa.publicKey!])
        let imported = try KeySet(jwks: set.jwks())
        #expect(imported.keys.map(\.keyID) == [es.keyID, ed.keyID, rsa.keyID])
        #expect(imported.keys.allSatisfy { !$0.isPrivate })
        #expect(imported.keys.map(\.algorithm) == [.es256, .edDSA, .ps256])
        #expect(imported.activeKey == nil)
        #expect(throws: TokenError.invalidKey) { try KeySet(jwks: #"{"keys":{}}"#) }
    }

    // MARK: Loading

    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "sesame-keys-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func productionRefusesToStartWithoutKeys() {
        #expect(throws: TokenError.keyNotConfigured) { try KeySet.load(mode: .production, environment: [:]) }
    }

    @Test func loadsKeysFromTheEnvironment() throws {
        let old = try JWK.generate(.es256)
        let new = try JWK.generate(.edDSA)
        let environment = [
            KeySet.signingKeyVariable: try new.json(includingPrivate: true),
            KeySet.verificationKeysVariable: try KeySet(verificationKeys: [old.publicKey!]).jwks(),
        ]
        let set = try KeySet.load(mode: .production, environment: environment)
        #expect(try set.signingKey().keyID == new.keyID)
        #expect(set.keys.count == 2)
        // PEM works too, with the algorithm variable choosing PSS for RSA.
        let rsa = try JWK.generate(.rs256)
        let pemSet = try KeySet.load(mode: .production, environment: [KeySet.signingKeyVariable: rsa.pemRepresentation!, KeySet.signingAlgorithmVariable: "PS256"])
        #expect(try pemSet.signingKey().algorithm == .ps256)
        #expect(throws: TokenError.invalidKey) { try KeySet.load(mode: .production, environment: [KeySet.signingKeyVariable: "garbage"]) }
    }

    @Test func developmentGeneratesOncePersistsWithMode0600() throws {
        let directory = temporaryDirectory()
        let file = directory + "/nested/keys.json"
        let first = try KeySet.load(mode: .development(keyFile: file), environment: [:])
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let second = try KeySet.load(mode: .development(keyFile: file), environment: [:])
        #expect(try first.signingKey().keyID == second.signingKey().keyID)
        // A key file others can read is refused.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect(throws: TokenError.invalidKey) { try KeySet.load(mode: .development(keyFile: file), environment: [:]) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
