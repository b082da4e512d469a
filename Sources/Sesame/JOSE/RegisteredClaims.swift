/// The registered claims of a JWT (RFC 7519 §4.1), read from a payload with their types checked.
public struct RegisteredClaims: Sendable, Hashable {
    /// `iss`: who issued the token.
    public var issuer: String?
    /// `sub`: whom the token is about.
    public var subject: String?
    /// `aud`: who the token is for (a single string in the payload becomes one element).
    public var audience: [String]
    /// `exp`: when the token expires, in seconds since 1970.
    public var expiresAt: Double?
    /// `nbf`: when the token becomes valid, in seconds since 1970.
    public var notBefore: Double?
    /// `iat`: when the token was issued, in seconds since 1970.
    public var issuedAt: Double?
    /// `jti`: the token's unique ID.
    public var tokenID: String?

    /// Reads the registered claims of a payload.
    ///
    /// - Parameter payload: The JWT payload object.
    /// - Throws: ``TokenError/invalidClaim`` when a registered claim has the wrong JSON type.
    public init(_ payload: JSONObject) throws(TokenError) {
        self.init()
        for (key, value) in payload.members {
            if let name = Name(rawValue: key) { try read(name, value) }
        }
    }

    /// Reads the registered claims from a scanned payload, parsing only their values.
    init(scanned members: JSONMemberList, in bytes: UnsafeBufferPointer<UInt8>) throws(TokenError) {
        self.init()
        let scanner = JSONObjectScanner(bytes)
        for index in 0..<members.count {
            let member = members[index]
            let name: Name
            if member.keyIsEscaped {
                guard let decoded = Name(rawValue: scanner.decodedName(member.key, true)) else { continue }
                name = decoded
            } else {
                // Every registered claim name is three ASCII letters: match them without making a string.
                guard member.key.count == 3 else { continue }
                let start = member.key.lowerBound
                switch (bytes[start], bytes[start + 1], bytes[start + 2]) {
                case (0x69, 0x73, 0x73): name = .iss
                case (0x73, 0x75, 0x62): name = .sub
                case (0x61, 0x75, 0x64): name = .aud
                case (0x65, 0x78, 0x70): name = .exp
                case (0x6E, 0x62, 0x66): name = .nbf
                case (0x69, 0x61, 0x74): name = .iat
                case (0x6A, 0x74, 0x69): name = .jti
                default: continue
                }
            }
            switch (name, member.kind) {
            case (.exp, .integer): expiresAt = Double(member.integer)
            case (.iat, .integer): issuedAt = Double(member.integer)
            case (.nbf, .integer): notBefore = Double(member.integer)
            case (.sub, .plainString): subject = member.string(in: bytes)
            case (.jti, .plainString): tokenID = member.string(in: bytes)
            case (.iss, .plainString): issuer = member.string(in: bytes)
            default:
                guard let value = member.parsed(in: bytes) else { continue }
                try read(name, value)
            }
        }
    }

    enum Name: String {
        case iss, sub, aud, exp, nbf, iat, jti
    }

    private mutating func read(_ name: Name, _ value: JSONValue) throws(TokenError) {
        let key = name.rawValue
        switch name {
        case .iss: issuer = try Self.string(value, key)
        case .sub: subject = try Self.string(value, key)
        case .jti: tokenID = try Self.string(value, key)
        case .exp: expiresAt = try Self.date(value, key)
        case .nbf: notBefore = try Self.date(value, key)
        case .iat: issuedAt = try Self.date(value, key)
        case .aud:
            switch value {
            case .string(let single): audience = [single]
            case .array(let many):
                audience = []
                for element in many { audience.append(try Self.string(element, key)) }
            default: throw TokenError.invalidClaim.with(detail: "\"aud\" must be a string or an array of strings")
            }
        }
    }

    /// Creates claims from values.
    public init(issuer: String? = nil, subject: String? = nil, audience: [String] = [], expiresAt: Double? = nil,
                notBefore: Double? = nil, issuedAt: Double? = nil, tokenID: String? = nil) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.tokenID = tokenID
    }

    /// Writes the claims that are set into a payload object.
    func write(to payload: inout JSONObject) {
        if let issuer { payload["iss"] = .string(issuer) }
        if let subject { payload["sub"] = .string(subject) }
        if audience.count == 1 { payload["aud"] = .string(audience[0]) }
        if audience.count > 1 { payload["aud"] = .array(audience.map(JSONValue.string)) }
        if let issuedAt { payload["iat"] = Self.number(issuedAt) }
        if let notBefore { payload["nbf"] = Self.number(notBefore) }
        if let expiresAt { payload["exp"] = Self.number(expiresAt) }
        if let tokenID { payload["jti"] = .string(tokenID) }
    }

    private static func number(_ seconds: Double) -> JSONValue {
        if let exact = Int64(exactly: seconds) { return .integer(exact) }
        return .double(seconds)
    }

    private static func string(_ value: JSONValue, _ key: String) throws(TokenError) -> String {
        guard case .string(let string) = value else { throw TokenError.invalidClaim.with(detail: "\"\(key)\" must be a string") }
        return string
    }

    private static func date(_ value: JSONValue, _ key: String) throws(TokenError) -> Double {
        guard let seconds = value.doubleValue, seconds.isFinite else {
            throw TokenError.invalidClaim.with(detail: "\"\(key)\" must be a number")
        }
        return seconds
    }
}
