import Crypto
import Foundation
import _CryptoExtras

extension JWK {
    /// Imports a key from its JWK JSON text (RFC 7517).
    ///
    /// - Parameters:
    ///   - json: A JWK object.
    ///   - algorithm: The algorithm to bind the key to when the JWK has no `alg` member. EC and OKP keys imply
    ///     theirs; RSA keys default to RS256; symmetric keys without `alg` need this parameter. A `dir` key
    ///     takes its content encryption from `enc`, else from its size (32 bytes: A256GCM, 64: A256CBC-HS512).
    /// - Throws: ``TokenError/invalidKey`` when the JWK is malformed, inconsistent or too weak.
    public init(json: String, algorithm: KeyAlgorithm? = nil) throws(TokenError) {
        guard case .object(let object) = try? JSONValue(parsing: json) else {
            throw TokenError.invalidKey.with(detail: "a JWK must be a JSON object")
        }
        try self.init(jsonObject: object, algorithm: algorithm)
    }

    /// Imports a key from a parsed JWK object.
    ///
    /// - Parameters:
    ///   - object: A JWK object.
    ///   - algorithm: The algorithm to use when the JWK has no `alg` member (see ``init(json:algorithm:)``).
    /// - Throws: ``TokenError/invalidKey`` when the JWK is malformed, inconsistent or too weak.
    public init(jsonObject object: JSONObject, algorithm: KeyAlgorithm? = nil) throws(TokenError) {
        func string(_ name: String) throws(TokenError) -> String? {
            guard let value = object[name] else { return nil }
            guard case .string(let string) = value else { throw TokenError.invalidKey.with(detail: "\"\(name)\" must be a string") }
            return string
        }
        func bytes(_ name: String) throws(TokenError) -> [UInt8]? {
            guard let text = try string(name) else { return nil }
            guard let decoded = Base64URL.decode(text) else { throw TokenError.invalidKey.with(detail: "\"\(name)\" is not base64url") }
            return decoded
        }
        func required(_ name: String) throws(TokenError) -> [UInt8] {
            guard let value = try bytes(name) else { throw TokenError.invalidKey.with(detail: "missing \"\(name)\"") }
            return value
        }

        var declared: KeyAlgorithm? = nil
        if let name = try string("alg") {
            if name == "dir" {
                // A direct-encryption key: the content encryption comes from `enc` (which Sesame writes next to
                // `alg`) or, failing that, from the key size, which tells the two supported algorithms apart.
                if let encryption = try string("enc") {
                    guard let known = KeyAlgorithm(name: encryption), !known.isSigning else {
                        throw TokenError.invalidKey.with(detail: "unsupported enc \(encryption)")
                    }
                    declared = known
                } else if let size = try bytes("k")?.count {
                    declared = size == 32 ? .a256gcm : size == 64 ? .a256cbcHS512 : nil
                }
            } else {
                guard let known = KeyAlgorithm(name: name) else { throw TokenError.invalidKey.with(detail: "unsupported alg \(name)") }
                declared = known
            }
        }
        if let declared, let algorithm, declared != algorithm {
            throw TokenError.invalidKey.with(detail: "the JWK is bound to \(declared), not \(algorithm)")
        }
        let keyID = try string("kid")
        let hasPrivate = object["d"] != nil

        let material: Material
        let implied: KeyAlgorithm?
        switch try string("kty") {
        case "EC":
            let x = try required("x"), y = try required("y")
            let d = try bytes("d")
            switch try string("crv") {
            case "P-256":
                guard x.count == 32, y.count == 32 else { throw TokenError.invalidKey.with(detail: "P-256 coordinates must be 32 bytes") }
                do {
                    let publicKey = try P256.Signing.PublicKey(rawRepresentation: x + y)
                    let privateKey = try d.map { d throws in try P256.Signing.PrivateKey(rawRepresentation: d) }
                    if let privateKey, privateKey.publicKey.rawRepresentation != publicKey.rawRepresentation {
                        throw TokenError.invalidKey.with(detail: "\"d\" does not match \"x\" and \"y\"")
                    }
                    material = .p256(publicKey, privateKey)
                } catch let error as TokenError {
                    throw error
                } catch {
                    throw TokenError.invalidKey.with(detail: "not a valid P-256 key")
                }
                implied = .es256
            case "P-384":
                guard x.count == 48, y.count == 48 else { throw TokenError.invalidKey.with(detail: "P-384 coordinates must be 48 bytes") }
                do {
                    let publicKey = try P384.Signing.PublicKey(rawRepresentation: x + y)
                    let privateKey = try d.map { d throws in try P384.Signing.PrivateKey(rawRepresentation: d) }
                    if let privateKey, privateKey.publicKey.rawRepresentation != publicKey.rawRepresentation {
                        throw TokenError.invalidKey.with(detail: "\"d\" does not match \"x\" and \"y\"")
                    }
                    material = .p384(publicKey, privateKey)
                } catch let error as TokenError {
                    throw error
                } catch {
                    throw TokenError.invalidKey.with(detail: "not a valid P-384 key")
                }
                implied = .es384
            default:
                throw TokenError.invalidKey.with(detail: "unsupported EC curve")
            }
        case "OKP":
            guard try string("crv") == "Ed25519" else { throw TokenError.invalidKey.with(detail: "unsupported OKP curve") }
            let x = try required("x")
            do {
                let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: x)
                var privateKey: Curve25519.Signing.PrivateKey? = nil
                if let d = try bytes("d") {
                    let key = try Curve25519.Signing.PrivateKey(rawRepresentation: d)
                    guard key.publicKey.rawRepresentation == publicKey.rawRepresentation else {
                        throw TokenError.invalidKey.with(detail: "\"d\" does not match \"x\"")
                    }
                    privateKey = key
                }
                material = .ed25519(publicKey, privateKey)
            } catch let error as TokenError {
                throw error
            } catch {
                throw TokenError.invalidKey.with(detail: "not a valid Ed25519 key")
            }
            implied = .edDSA
        case "RSA":
            let n = try required("n"), e = try required("e")
            do {
                let publicKey = try _RSA.Signing.PublicKey(n: n, e: e)
                var privateKey: _RSA.Signing.PrivateKey? = nil
                if hasPrivate {
                    let d = try required("d"), p = try required("p"), q = try required("q")
                    privateKey = try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q)
                }
                material = .rsa(publicKey, privateKey)
            } catch let error as TokenError {
                throw error
            } catch {
                throw TokenError.invalidKey.with(detail: "not a valid RSA key of at least 2048 bits")
            }
            implied = .rs256
        case "oct":
            material = .symmetric(SymmetricKey(data: try required("k")))
            implied = nil
        default:
            throw TokenError.invalidKey.with(detail: "unsupported or missing \"kty\"")
        }
        guard let chosen = declared ?? algorithm ?? implied else {
            throw TokenError.invalidKey.with(detail: "a symmetric JWK needs \"alg\" or an explicit algorithm")
        }
        try self.init(material: material, algorithm: chosen, keyID: keyID)
    }

    /// The JWK members of this key.
    ///
    /// - Parameter includingPrivate: Whether to include private or secret members. Defaults to `false`:
    ///   only the public members of an asymmetric key. Exporting a symmetric key always needs `true`.
    /// - Returns: The JWK object, with `kty`, the key members, `kid`, `alg` and `use`.
    /// - Throws: ``TokenError/invalidKey`` when asked for a symmetric key's JWK without `includingPrivate`.
    public func jsonObject(includingPrivate: Bool = false) throws(TokenError) -> JSONObject {
        var object = JWK.thumbprintMembers(of: material)
        if includingPrivate {
            switch material {
            case .p256(_, let privateKey?): object["d"] = .string(Base64URL.encode(privateKey.rawRepresentation))
            case .p384(_, let privateKey?): object["d"] = .string(Base64URL.encode(privateKey.rawRepresentation))
            case .ed25519(_, let privateKey?): object["d"] = .string(Base64URL.encode(privateKey.rawRepresentation))
            case .rsa(_, let privateKey?):
                guard let parts = RSAPrivateKeyComponents(pkcs1DER: Array(privateKey.derRepresentation)) else {
                    throw TokenError.invalidKey.with(detail: "cannot read the RSA private key")
                }
                object["d"] = .string(Base64URL.encode(parts.d))
                object["p"] = .string(Base64URL.encode(parts.p))
                object["q"] = .string(Base64URL.encode(parts.q))
                object["dp"] = .string(Base64URL.encode(parts.dp))
                object["dq"] = .string(Base64URL.encode(parts.dq))
                object["qi"] = .string(Base64URL.encode(parts.qi))
            default: break
            }
        } else if isSymmetric {
            throw TokenError.invalidKey.with(detail: "a symmetric key has no public form")
        }
        object["kid"] = .string(keyID)
        if algorithm.isSigning {
            object["alg"] = .string(algorithm.name)
            object["use"] = "sig"
        } else {
            // JWK `alg` takes key-management values, so a direct-encryption key is `dir`; `enc` records which
            // content encryption it serves (JOSE libraries ignore members they do not know).
            object["alg"] = "dir"
            object["enc"] = .string(algorithm.name)
            object["use"] = "enc"
        }
        return object
    }

    /// The JWK JSON text of this key.
    ///
    /// - Parameter includingPrivate: Whether to include private or secret members (default `false`).
    /// - Returns: Compact JSON.
    /// - Throws: ``TokenError/invalidKey`` when asked for a symmetric key's JWK without `includingPrivate`.
    public func json(includingPrivate: Bool = false) throws(TokenError) -> String {
        JSONValue.object(try jsonObject(includingPrivate: includingPrivate)).jsonString
    }

    /// The required public members of a key in lexicographic order, as RFC 7638 §3.2 lists them.
    static func thumbprintMembers(of material: Material) -> JSONObject {
        var object = JSONObject()
        switch material {
        case .p256(let publicKey, _):
            let raw = Array(publicKey.rawRepresentation)
            object["crv"] = "P-256"
            object["kty"] = "EC"
            object["x"] = .string(Base64URL.encode(raw[0..<32]))
            object["y"] = .string(Base64URL.encode(raw[32..<64]))
        case .p384(let publicKey, _):
            let raw = Array(publicKey.rawRepresentation)
            object["crv"] = "P-384"
            object["kty"] = "EC"
            object["x"] = .string(Base64URL.encode(raw[0..<48]))
            object["y"] = .string(Base64URL.encode(raw[48..<96]))
        case .ed25519(let publicKey, _):
            object["crv"] = "Ed25519"
            object["kty"] = "OKP"
            object["x"] = .string(Base64URL.encode(publicKey.rawRepresentation))
        case .rsa(let publicKey, _):
            let primitives = try? publicKey.getKeyPrimitives()
            object["e"] = .string(Base64URL.encode((primitives?.publicExponent ?? Data()).drop(while: { $0 == 0 })))
            object["kty"] = "RSA"
            object["n"] = .string(Base64URL.encode((primitives?.modulus ?? Data()).drop(while: { $0 == 0 })))
        case .symmetric(let key):
            object["k"] = .string(key.withUnsafeBytes { Base64URL.encode($0) })
            object["kty"] = "oct"
        }
        return object
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256(required members, sorted, no whitespace)).
    static func thumbprint(of material: Material) -> String {
        Base64URL.encode(SHA256.hash(data: JSONValue.object(thumbprintMembers(of: material)).jsonBytes))
    }
}
