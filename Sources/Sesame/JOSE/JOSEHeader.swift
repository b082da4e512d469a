/// The protected header of a JWS or JWE, parsed and checked.
///
/// Parsing rejects a header that is not a JSON object, lacks a string `alg`, has members of the wrong type,
/// or lists a critical (`crit`) extension that is not understood. Key-carrying headers (`jwk`, `jku`,
/// `x5u`, `x5c`) are kept in ``fields`` but never used to select a key.
public struct JOSEHeader: Sendable {
    /// The parsed members, shared by copies: passing a header around costs one reference count.
    private final class Storage: Sendable {
        let fields: JSONObject
        let algorithm: String
        let encryption: String?
        let keyID: String?
        let type: String?
        let contentType: String?

        init(fields: JSONObject, algorithm: String, encryption: String?, keyID: String?, type: String?, contentType: String?) {
            self.fields = fields
            self.algorithm = algorithm
            self.encryption = encryption
            self.keyID = keyID
            self.type = type
            self.contentType = contentType
        }
    }

    private let storage: Storage

    /// Every member of the header.
    public var fields: JSONObject { storage.fields }
    /// `alg`: the signature algorithm, or the key management algorithm of a JWE.
    public var algorithm: String { storage.algorithm }
    /// `enc`: the content encryption algorithm of a JWE.
    public var encryption: String? { storage.encryption }
    /// `kid`: the key ID.
    public var keyID: String? { storage.keyID }
    /// `typ`: the media type of the whole token, for example `JWT` or `sesame-link+jwt`.
    public var type: String? { storage.type }
    /// `cty`: the media type of the payload.
    public var contentType: String? { storage.contentType }

    init(decoded bytes: [UInt8], understoodCriticalParameters: Set<String>) throws(TokenError) {
        guard case .object(let fields)? = try? JSONValue(parsing: bytes) else {
            throw TokenError.invalidHeader.with(detail: "not a JSON object")
        }
        func string(_ name: String) throws(TokenError) -> String? {
            guard let value = fields[name] else { return nil }
            guard case .string(let string) = value else { throw TokenError.invalidHeader.with(detail: "\"\(name)\" must be a string") }
            return string
        }
        guard let algorithm = try string("alg") else { throw TokenError.invalidHeader.with(detail: "missing \"alg\"") }
        storage = Storage(
            fields: fields, algorithm: algorithm, encryption: try string("enc"), keyID: try string("kid"),
            type: try string("typ"), contentType: try string("cty"))
        if let critical = fields["crit"] {
            // RFC 7515 §4.1.11: a non-empty array of names, each present in the header and understood.
            guard case .array(let names) = critical, !names.isEmpty else {
                throw TokenError.invalidHeader.with(detail: "\"crit\" must be a non-empty array")
            }
            for name in names {
                guard case .string(let name) = name, fields[name] != nil else {
                    throw TokenError.invalidHeader.with(detail: "\"crit\" names a missing header parameter")
                }
                guard understoodCriticalParameters.contains(name) else {
                    throw TokenError.unknownCriticalHeader.with(detail: "\(name) is not understood")
                }
            }
        }
    }

    /// Serializes a header for a new token: `alg` (and `enc`) first, then `kid`, `typ` and any extra members.
    static func encode(algorithm: String, encryption: String? = nil, keyID: String, type: String?, extra: JSONObject) -> [UInt8] {
        var object = JSONObject()
        object["alg"] = .string(algorithm)
        if let encryption { object["enc"] = .string(encryption) }
        object["kid"] = .string(keyID)
        if let type { object["typ"] = .string(type) }
        for member in extra where object[member.key] == nil { object[member.key] = member.value }
        return JSONValue.object(object).jsonBytes
    }
}
