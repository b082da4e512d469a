import Foundation

/// The keys a service signs (or encrypts) with and verifies (or decrypts) with.
///
/// One key is active: new tokens use it. Any number of further keys only verify, so keys rotate without
/// signing anyone out: add the new key as active, keep the old one for verification until the last token
/// it signed expires, then drop it.
///
/// Key selection is strict. A token's `kid` must name a key of the set (there is no fallback to a default
/// key), and when the set holds more than one key, a token without `kid` is rejected. The selected key's
/// algorithm must be the one the token names.
///
/// A set is a value, fixed when it is made, except ``KeyRing/keys``: that set reads its ring's current keys on every
/// use, so that the components it was given to see keys the ring replaced while the app runs.
public struct KeySet: Sendable {
    /// The key new tokens are signed or encrypted with, if the set can issue tokens.
    public var activeKey: JWK? {
        if let ring { return ring.current.storedActiveKey }
        return storedActiveKey
    }
    /// Every key in the set, the active key first.
    public var keys: [JWK] {
        if let ring { return ring.current.storedKeys }
        return storedKeys
    }
    private let storedActiveKey: JWK?
    private let storedKeys: [JWK]
    private let keysByID: [String: JWK]
    /// The exact encoded header Sesame writes for each key, with its parsed form: a token that carries one of
    /// these byte for byte needs no header parsing or key lookup.
    private let knownHeaders: [KnownHeader]
    /// The ring whose current keys this set stands for, or `nil` for a fixed set.
    @usableFromInline let ring: KeyRing?

    struct KnownHeader: Sendable {
        let encoded: [UInt8]
        let header: JOSEHeader
        let key: JWK
    }

    /// Creates a key set that issues tokens with `activeKey` and accepts tokens of any of its keys.
    ///
    /// - Parameters:
    ///   - activeKey: The key new tokens use; it must hold private or secret material.
    ///   - verificationKeys: Further keys that are accepted but no longer used for new tokens.
    /// - Throws: ``TokenError/invalidKey`` if the active key cannot sign or encrypt, or if two keys share a key ID.
    public init(activeKey: JWK, verificationKeys: [JWK] = []) throws(TokenError) {
        guard activeKey.isPrivate else {
            throw TokenError.invalidKey.with(detail: "the active key must hold private or secret material")
        }
        try self.init(active: activeKey, keys: [activeKey] + verificationKeys)
    }

    /// Creates a verification-only key set, for example from another service's published JWKS.
    ///
    /// - Parameter verificationKeys: The accepted keys.
    /// - Throws: ``TokenError/invalidKey`` if two keys share a key ID.
    public init(verificationKeys: [JWK]) throws(TokenError) {
        try self.init(active: nil, keys: verificationKeys)
    }

    private init(active: JWK?, keys: [JWK]) throws(TokenError) {
        var byID: [String: JWK] = [:]
        for key in keys {
            guard byID.updateValue(key, forKey: key.keyID) == nil else {
                throw TokenError.invalidKey.with(detail: "two keys share the key ID \(key.keyID)")
            }
        }
        self.storedActiveKey = active
        self.storedKeys = keys
        self.ring = nil
        self.keysByID = byID
        self.knownHeaders = keys.compactMap { key in
            let json = key.algorithm.isSigning
                ? JOSEHeader.encode(algorithm: key.algorithm.name, keyID: key.keyID, type: nil, extra: [:])
                : JOSEHeader.encode(algorithm: "dir", encryption: key.algorithm.name, keyID: key.keyID, type: nil, extra: [:])
            guard let header = try? JOSEHeader(decoded: json, understoodCriticalParameters: []) else { return nil }
            var encoded: [UInt8] = []
            Base64URL.appendEncoded(json, to: &encoded)
            return KnownHeader(encoded: encoded, header: header, key: key)
        }
    }

    /// The set that stands for a ring's current keys (``KeyRing/keys``).
    init(ring: KeyRing) {
        storedActiveKey = nil
        storedKeys = []
        keysByID = [:]
        knownHeaders = []
        self.ring = ring
    }

    /// Whether the set reads a ring's current keys on each use.
    var isLive: Bool { ring != nil }

    /// The number of the keys this set holds now: 0 for a fixed set; for a ring's set, the ring's
    /// ``KeyRing/generation``, which changes whenever the ring's keys are replaced. What is derived from the keys is
    /// remembered under it.
    @usableFromInline var generation: Int { ring?.generation ?? 0 }

    /// The fixed set of the keys this set holds now: itself, or its ring's current keys.
    var resolved: KeySet { ring?.current ?? self }

    /// A copy of the set whose keys and headers are new objects, sharing no reference-counted state with this one
    /// but the key material: a thread that verifies with its own replica retains and releases only objects no other
    /// core touches (see ``SessionTokens``).
    func replica() -> KeySet {
        if let ring { return ring.current.replica() }
        let replicas = keys.map { $0.replica() }
        // The keys were accepted once, so they are again.
        return try! KeySet(active: activeKey == nil ? nil : replicas[0], keys: replicas)
    }

    /// The parsed header and key for an encoded header that is exactly one Sesame writes for a key of the set.
    ///
    /// - Parameters:
    ///   - encoded: The token's first segment.
    ///   - signing: Whether the token is a JWS (`true`) or a JWE (`false`).
    func knownHeader(_ encoded: UnsafeBufferPointer<UInt8>, signing: Bool) -> (header: JOSEHeader, key: JWK)? {
        if let ring { return ring.current.knownHeader(encoded, signing: signing) }
        for known in knownHeaders where known.key.algorithm.isSigning == signing && known.encoded.count == encoded.count {
            let same = known.encoded.withUnsafeBufferPointer { memcmp($0.baseAddress!, encoded.baseAddress!, encoded.count) == 0 }
            if same { return (known.header, known.key) }
        }
        return nil
    }

    /// Selects the key for a token's `kid`, strictly.
    ///
    /// - Parameter keyID: The token's `kid` header, if any.
    /// - Returns: The key with that ID, or the only key of a one-key set when the token has no `kid`.
    /// - Throws: ``TokenError/unknownKeyID`` or ``TokenError/missingKeyID``.
    public func key(forID keyID: String?) throws(TokenError) -> JWK {
        if let ring { return try ring.current.key(forID: keyID) }
        if let keyID {
            guard let key = keysByID[keyID] else { throw TokenError.unknownKeyID }
            return key
        }
        guard keys.count == 1 else { throw TokenError.missingKeyID }
        return keys[0]
    }

    /// The key the set issues tokens with.
    ///
    /// - Throws: ``TokenError/keyNotConfigured`` for a verification-only set.
    public func signingKey() throws(TokenError) -> JWK {
        guard let activeKey else { throw TokenError.keyNotConfigured.with(detail: "this key set only verifies") }
        return activeKey
    }

    // MARK: JWKS

    /// Imports a JWK Set document (RFC 7517 §5) as a verification-only key set.
    ///
    /// - Parameters:
    ///   - jwks: The JSON text `{"keys": [...]}`.
    ///   - algorithm: Passed to each key import for keys without `alg` (see ``JWK/init(json:algorithm:)``).
    /// - Throws: ``TokenError/invalidKey`` when the document or one of its keys is malformed.
    public init(jwks: String, algorithm: KeyAlgorithm? = nil) throws(TokenError) {
        guard let document = try? JSONValue(parsing: jwks), case .array(let entries)? = document["keys"] else {
            throw TokenError.invalidKey.with(detail: "a JWKS must be an object with a \"keys\" array")
        }
        var keys: [JWK] = []
        for entry in entries {
            guard case .object(let object) = entry else { throw TokenError.invalidKey.with(detail: "a JWKS entry must be an object") }
            keys.append(try JWK(jsonObject: object, algorithm: algorithm))
        }
        try self.init(verificationKeys: keys)
    }

    /// The JWK Set document of the set's keys.
    ///
    /// - Parameter includingPrivate: Whether to include private and secret material. With the default,
    ///   `false`, only asymmetric keys' public halves are published and symmetric keys are left out, so the
    ///   document is safe to serve, for example at `/.well-known/jwks.json`.
    /// - Returns: The JSON text `{"keys": [...]}`.
    public func jwks(includingPrivate: Bool = false) -> String {
        var entries: [JSONValue] = []
        for key in keys where includingPrivate || !key.isSymmetric {
            if let object = try? key.jsonObject(includingPrivate: includingPrivate) { entries.append(.object(object)) }
        }
        return JSONValue.object(["keys": .array(entries)]).jsonString
    }
}
