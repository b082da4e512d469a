import Crypto

/// The app's session kinds, declared once as a `Codable` enum.
///
/// ```swift
/// enum AppSession: SessionSubject {
///     case user(userID: String, tenantID: String?)
///     case apiKey(keyID: String)
/// }
/// ```
///
/// Each case is one session kind. In a token, a case travels in SST's wire shape, the case name as `type` and
/// its associated values as `properties`: `{"type":"user","properties":{"userID":"123"}}`. Reading the
/// session back is an exhaustive `switch`, checked by the compiler.
public protocol SessionSubject: Codable, Sendable {
    /// The stable identifier of whom the session is about; it becomes the token's `sub` and is the key for
    /// "sign out everywhere".
    ///
    /// The default is `type:label:value` when the case has exactly one non-nil associated value that is a
    /// string or an integer (`user:userID:123`), and otherwise `type:` followed by a hash of the properties.
    /// Override it to name your own identifier.
    var subjectIdentifier: String { get }
}

extension SessionSubject {
    public var subjectIdentifier: String {
        guard let (type, properties) = try? SessionSubjectCoding.encode(self) else { return "" }
        return SessionSubjectCoding.defaultIdentifier(type: type, properties: properties)
    }
}

/// Converts between a subject enum and SST's `{type, properties}` wire shape.
///
/// Swift's synthesized `Codable` for an enum case is a one-member object, `{"user": {"userID": "123"}}`; the
/// wire shape names the member `type` and its value `properties`.
enum SessionSubjectCoding {
    static func encode<Subject: SessionSubject>(_ subject: Subject) throws(TokenError) -> (type: String, properties: JSONObject) {
        guard case .object(let wrapper)? = try? JSONValueEncoder().encode(subject), wrapper.count == 1,
            case .object(let properties) = wrapper.members[0].value
        else {
            throw TokenError.invalidSessionProperties.with(detail: "a SessionSubject must be an enum with synthesized Codable")
        }
        return (wrapper.members[0].key, properties)
    }

    /// The payload members a session is read from, besides the registered claims.
    static let members = ["type", "properties"]

    static func decode<Subject: SessionSubject>(_ type: Subject.Type, type typeMember: JSONValue?, properties propertiesMember: JSONValue?) throws(TokenError) -> Subject {
        guard case .string(let name)? = typeMember else { throw TokenError.unknownSessionType.with(detail: "missing \"type\"") }
        guard case .object(let properties)? = propertiesMember else {
            throw TokenError.invalidSessionProperties.with(detail: "missing \"properties\"")
        }
        do {
            return try JSONValueDecoder().decode(Subject.self, from: .object(JSONObject(uniqueMembers: [(name, .object(properties))])))
        } catch let error as DecodingError {
            // A failure at the top level means no case has that name; deeper down, the properties are wrong.
            let path: [any CodingKey]
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
                path = context.codingPath
            @unknown default:
                path = []
            }
            if path.isEmpty { throw TokenError.unknownSessionType }
            throw TokenError.invalidSessionProperties
        } catch {
            throw TokenError.invalidSessionProperties
        }
    }

    static func defaultIdentifier(type: String, properties: JSONObject) -> String {
        if properties.count == 1 {
            let member = properties.members[0]
            switch member.value {
            case .string(let value): return "\(type):\(member.key):\(value)"
            case .integer(let value): return "\(type):\(member.key):\(value)"
            default: break
            }
        }
        let digest = SHA256.hash(data: JSONValue.object(properties).jsonBytes)
        return "\(type):\(Base64URL.encode(Array(digest).prefix(16)))"
    }
}
