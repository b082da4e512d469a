import Crypto
import Foundation

/// One native-app sign-in as the session store keeps it: whom it is about, which app, and the hashes of its
/// current refresh token and of the one it replaced. Every refresh rotates the token; the family lives at most
/// ``NativeAppConfiguration/refreshTokenLifetime`` from the sign-in.
///
/// Nothing in it opens a session by itself: the secrets are stored as SHA-256 hashes, the family's ID (in every
/// token of the family) only as the hash that is its store key, and the answer kept for a retried refresh
/// (``retry``) is sealed under a key derived from the previous token's secret, which the store never sees.
struct RefreshTokenFamily: Sendable, Equatable {
    /// The family's store key: the SHA-256 of its ID.
    let key: String
    /// The subject, in its wire shape (`type`, `properties`), to issue access tokens for (an update may change it).
    var subjectType: String
    var subjectProperties: JSONObject
    /// The subject's ``SessionSubject/subjectIdentifier``.
    var subjectID: String
    /// The app.
    let clientID: String
    /// When the family began and when it ends, in whole seconds since 1970.
    let createdAt: Int64
    let expiresAt: Int64
    /// How many times it rotated.
    var generation: Int64
    /// SHA-256 of the current token's secret.
    var currentHash: [UInt8]
    /// SHA-256 of the token the current one replaced, and when (seconds since 1970).
    var previousHash: [UInt8]?
    var rotatedAt: Double?
    /// The answer to the last rotation, sealed under the previous token's secret: what a retry of that refresh gets.
    var retry: [UInt8]?
    /// The access tokens issued and not yet expired: their IDs and expiries, revoked with the family.
    var accessTokens: [AccessTokenEntry]

    /// An access token of the family.
    struct AccessTokenEntry: Sendable, Equatable {
        let id: String
        let expiresAt: Int64
    }

    /// The store key of a family: the SHA-256 of its ID, in hex.
    static func storeKey(familyID: String) -> String { SessionCookieSigner.storeKey(for: Array(("sesame-refresh-family:" + familyID).utf8)) }

    /// The store group of a subject's families ("sign out everywhere" deletes it).
    static func group(subjectID: String) -> String { "native:" + subjectID }

    /// The record the store keeps.
    func record() -> SessionRecord {
        SessionRecord(key: key, group: Self.group(subjectID: subjectID), value: encoded(), expiresAt: Date(timeIntervalSince1970: Double(expiresAt)))
    }

    func encoded() -> [UInt8] {
        var object: JSONObject = [
            "v": 1, "t": .string(subjectType), "p": .object(subjectProperties), "s": .string(subjectID),
            "c": .string(clientID), "ca": .integer(createdAt), "ea": .integer(expiresAt), "g": .integer(generation),
            "h": .string(Base64URL.encode(currentHash)),
            "a": .array(accessTokens.map { .array([.string($0.id), .integer($0.expiresAt)]) }),
        ]
        if let previousHash { object["ph"] = .string(Base64URL.encode(previousHash)) }
        if let rotatedAt { object["ra"] = .double(rotatedAt) }
        if let retry { object["r"] = .string(Base64URL.encode(retry)) }
        return JSONValue.object(object).jsonBytes
    }

    /// Decodes a stored family (the record under `key`); `nil` for anything else (a corrupt or foreign record).
    init?(decoding bytes: [UInt8], key: String) {
        guard let object = (try? JSONValue(parsing: bytes))?.objectValue, object["v"]?.int64Value == 1,
            let type = object["t"]?.stringValue, let properties = object["p"]?.objectValue,
            let subjectID = object["s"]?.stringValue, let clientID = object["c"]?.stringValue,
            case .integer(let createdAt)? = object["ca"], case .integer(let expiresAt)? = object["ea"], case .integer(let generation)? = object["g"],
            let current = object["h"]?.stringValue.flatMap(Base64URL.decode), current.count == 32,
            let entries = object["a"]?.arrayValue
        else { return nil }
        var accessTokens: [AccessTokenEntry] = []
        for entry in entries {
            guard let pair = entry.arrayValue, pair.count == 2, let tokenID = pair[0].stringValue, case .integer(let expiry) = pair[1] else { return nil }
            accessTokens.append(AccessTokenEntry(id: tokenID, expiresAt: expiry))
        }
        self.key = key
        self.subjectType = type
        self.subjectProperties = properties
        self.subjectID = subjectID
        self.clientID = clientID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.generation = generation
        self.currentHash = current
        self.previousHash = object["ph"]?.stringValue.flatMap(Base64URL.decode)
        self.rotatedAt = object["ra"]?.doubleValue
        self.retry = object["r"]?.stringValue.flatMap(Base64URL.decode)
        self.accessTokens = accessTokens
    }

    init(key: String, subjectType: String, subjectProperties: JSONObject, subjectID: String, clientID: String, createdAt: Int64, expiresAt: Int64, currentHash: [UInt8]) {
        self.key = key
        self.subjectType = subjectType
        self.subjectProperties = subjectProperties
        self.subjectID = subjectID
        self.clientID = clientID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.generation = 0
        self.currentHash = currentHash
        self.accessTokens = []
    }

    // MARK: The retried refresh's answer

    /// Seals the answer of a rotation under a key derived from the secret of the token it replaced.
    static func sealRetry(_ grant: NativeTokenGrant, previous: RefreshToken, generation: Int64) throws -> [UInt8] {
        let object: JSONObject = [
            "r": .string(grant.refreshToken), "a": .string(grant.accessToken),
            "ae": .double(grant.accessTokenExpiresAt.timeIntervalSince1970), "re": .double(grant.refreshTokenExpiresAt.timeIntervalSince1970),
        ]
        let box = try AES.GCM.seal(JSONValue.object(object).jsonBytes, using: retryKey(previous), authenticating: retryData(previous, generation))
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return Array(combined)
    }

    /// Opens the sealed answer with the secret of the token it was sealed for; `nil` if it does not open.
    static func openRetry(_ sealed: [UInt8], previous: RefreshToken, generation: Int64) -> NativeTokenGrant? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
            let plain = try? AES.GCM.open(box, using: retryKey(previous), authenticating: retryData(previous, generation)),
            let object = (try? JSONValue(parsing: Array(plain)))?.objectValue,
            let refresh = object["r"]?.stringValue, let access = object["a"]?.stringValue,
            let accessExpiry = object["ae"]?.doubleValue, let refreshExpiry = object["re"]?.doubleValue
        else { return nil }
        return NativeTokenGrant(
            accessToken: access, accessTokenExpiresAt: Date(timeIntervalSince1970: accessExpiry), refreshToken: refresh,
            refreshTokenExpiresAt: Date(timeIntervalSince1970: refreshExpiry))
    }

    private static func retryKey(_ previous: RefreshToken) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: previous.secret), salt: Array(previous.familyID.utf8), info: Array("sesame/refresh-retry/v1".utf8), outputByteCount: 32)
    }

    private static func retryData(_ previous: RefreshToken, _ generation: Int64) -> [UInt8] { Array("\(previous.familyID):\(generation)".utf8) }

}
