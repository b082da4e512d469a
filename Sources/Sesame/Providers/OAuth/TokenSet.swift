import Foundation

/// The tokens an identity provider issued at the end of a sign-in.
public struct TokenSet: Sendable, Hashable {
    /// The access token.
    public var accessToken: String
    /// The token type, usually `Bearer`.
    public var tokenType: String?
    /// The refresh token, if the provider issued one.
    public var refreshToken: String?
    /// The OpenID Connect ID token, if any.
    public var idToken: String?
    /// When the access token expires.
    public var expiresAt: Date?
    /// The granted scope.
    public var scope: String?

    /// Creates a token set.
    ///
    /// - Parameters:
    ///   - accessToken: The access token.
    ///   - tokenType: The token type.
    ///   - refreshToken: The refresh token, if any.
    ///   - idToken: The ID token, if any.
    ///   - expiresAt: When the access token expires.
    ///   - scope: The granted scope.
    public init(accessToken: String, tokenType: String? = "Bearer", refreshToken: String? = nil, idToken: String? = nil, expiresAt: Date? = nil, scope: String? = nil) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.expiresAt = expiresAt
        self.scope = scope
    }

    /// Reads a token response (RFC 6749 §5.1).
    ///
    /// - Parameters:
    ///   - json: The response object.
    ///   - now: The current time, for `expires_in`.
    /// - Returns: `nil` unless `access_token` is a string.
    init?(json: JSONObject, now: Date) {
        guard case .string(let accessToken)? = json["access_token"], !accessToken.isEmpty else { return nil }
        self.accessToken = accessToken
        tokenType = json["token_type"]?.stringValue
        refreshToken = json["refresh_token"]?.stringValue
        idToken = json["id_token"]?.stringValue
        scope = json["scope"]?.stringValue
        expiresAt = json["expires_in"]?.doubleValue.map { now.addingTimeInterval($0) }
    }
}

/// A user's profile, normalized across providers.
public struct Profile: Sendable, Hashable {
    /// The user's ID at the provider (OIDC `sub`).
    public var id: String
    /// The email address, if shared.
    public var email: String?
    /// Whether the provider verified the email address.
    public var emailVerified: Bool
    /// The display name.
    public var name: String?
    /// A picture URL.
    public var image: String?

    /// Creates a profile.
    public init(id: String, email: String? = nil, emailVerified: Bool = false, name: String? = nil, image: String? = nil) {
        self.id = id
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.image = image
    }

    /// The standard OpenID Connect claims (`sub`, `email`, `email_verified`, `name`, `picture`).
    public static func openIDConnect(_ claims: JSONObject) -> Profile? {
        guard let id = claims["sub"].flatMap(Profile.text) else { return nil }
        return Profile(
            id: id, email: claims["email"]?.stringValue, emailVerified: claims["email_verified"]?.boolValue ?? false,
            name: claims["name"]?.stringValue ?? claims["preferred_username"]?.stringValue, image: claims["picture"]?.stringValue)
    }

    /// A string or an integer as text (providers disagree on the type of IDs).
    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let string): return string.isEmpty ? nil : string
        case .integer(let integer): return String(integer)
        default: return nil
        }
    }
}
