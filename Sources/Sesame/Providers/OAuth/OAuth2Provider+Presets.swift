import Foundation
import HTTPTypes

/// Ready-made OAuth 2.0 providers: each is the generic ``OAuth2Provider`` with the provider's endpoints and a
/// profile mapping, nothing more.
extension OAuth2Provider {
    /// Google in plain OAuth 2.0 mode (SST's `GoogleAdapter` in `oauth` mode): the profile comes from the
    /// user-info endpoint instead of an ID token.
    public static func google(clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"], parameters: [(String, String)] = []) -> OAuth2Provider {
        OAuth2Provider(displayName: "Google", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret),
            authorizationURL: "https://accounts.google.com/o/oauth2/v2/auth", tokenURL: "https://oauth2.googleapis.com/token",
            userInfoURL: "https://openidconnect.googleapis.com/v1/userinfo", scopes: scopes, authorizationParameters: parameters))
    }

    /// GitHub. The email is the primary verified address from `/user/emails` (the profile's public email may
    /// be missing or unverified).
    public static func github(clientID: String, clientSecret: String, scopes: [String] = ["read:user", "user:email"]) -> OAuth2Provider {
        OAuth2Provider(displayName: "GitHub", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret), clientAuthentication: .post,
            authorizationURL: "https://github.com/login/oauth/authorize", tokenURL: "https://github.com/login/oauth/access_token",
            userInfoURL: "https://api.github.com/user", scopes: scopes,
            userInfoHeaders: [.userAgent: "Sesame", .accept: "application/vnd.github+json"],
            profile: { user, _, fetch in
                GitHubProfile.profile(user: user, emails: try? await fetch.json("https://api.github.com/user/emails"))
            }))
    }

    /// Discord.
    public static func discord(clientID: String, clientSecret: String, scopes: [String] = ["identify", "email"]) -> OAuth2Provider {
        OAuth2Provider(displayName: "Discord", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret),
            authorizationURL: "https://discord.com/oauth2/authorize", tokenURL: "https://discord.com/api/oauth2/token",
            userInfoURL: "https://discord.com/api/users/@me", scopes: scopes,
            profile: { user, _, _ in
                guard let id = user["id"].flatMap(Profile.text) else { return nil }
                let avatar = user["avatar"]?.stringValue.map { "https://cdn.discordapp.com/avatars/\(id)/\($0).png" }
                return Profile(id: id, email: user["email"]?.stringValue, emailVerified: user["verified"]?.boolValue ?? false,
                               name: user["global_name"]?.stringValue ?? user["username"]?.stringValue, image: avatar)
            }))
    }

    /// Facebook (Graph API v19).
    public static func facebook(clientID: String, clientSecret: String, scopes: [String] = ["email", "public_profile"]) -> OAuth2Provider {
        OAuth2Provider(displayName: "Facebook", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret), clientAuthentication: .post,
            authorizationURL: "https://www.facebook.com/v19.0/dialog/oauth", tokenURL: "https://graph.facebook.com/v19.0/oauth/access_token",
            userInfoURL: "https://graph.facebook.com/me?fields=id,name,email,picture", scopes: scopes,
            profile: { user, _, _ in
                guard let id = user["id"].flatMap(Profile.text) else { return nil }
                // Facebook only shares confirmed addresses.
                let email = user["email"]?.stringValue
                return Profile(id: id, email: email, emailVerified: email != nil, name: user["name"]?.stringValue,
                               image: user["picture"]?["data"]?["url"]?.stringValue)
            }))
    }

    /// Bitbucket Cloud. The email is the primary confirmed address from `/user/emails`.
    public static func bitbucket(clientID: String, clientSecret: String, scopes: [String] = ["account", "email"]) -> OAuth2Provider {
        OAuth2Provider(displayName: "Bitbucket", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret),
            authorizationURL: "https://bitbucket.org/site/oauth2/authorize", tokenURL: "https://bitbucket.org/site/oauth2/access_token",
            userInfoURL: "https://api.bitbucket.org/2.0/user", scopes: scopes,
            profile: { user, _, fetch in
                guard let id = user["uuid"].flatMap(Profile.text) ?? user["account_id"].flatMap(Profile.text) else { return nil }
                let emails = try? await fetch.json("https://api.bitbucket.org/2.0/user/emails")
                let primary = emails?["values"]?.arrayValue?.first { $0["is_primary"]?.boolValue == true && $0["is_confirmed"]?.boolValue == true }
                return Profile(id: id, email: primary?["email"]?.stringValue, emailVerified: primary != nil,
                               name: user["display_name"]?.stringValue, image: user["links"]?["avatar"]?["href"]?.stringValue)
            }))
    }

    /// Spotify.
    public static func spotify(clientID: String, clientSecret: String, scopes: [String] = ["user-read-email"]) -> OAuth2Provider {
        OAuth2Provider(displayName: "Spotify", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret),
            authorizationURL: "https://accounts.spotify.com/authorize", tokenURL: "https://accounts.spotify.com/api/token",
            userInfoURL: "https://api.spotify.com/v1/me", scopes: scopes,
            profile: { user, _, _ in
                guard let id = user["id"].flatMap(Profile.text) else { return nil }
                // Spotify does not say whether the address is verified.
                return Profile(id: id, email: user["email"]?.stringValue, emailVerified: false, name: user["display_name"]?.stringValue,
                               image: user["images"]?.arrayValue?.first?["url"]?.stringValue)
            }))
    }

    /// X (Twitter), OAuth 2.0 with PKCE. X shares no email address with OAuth 2.0 apps.
    public static func x(clientID: String, clientSecret: String?, scopes: [String] = ["users.read", "tweet.read", "offline.access"]) -> OAuth2Provider {
        OAuth2Provider(displayName: "X", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret), clientAuthentication: clientSecret == nil ? .none : .basic,
            authorizationURL: "https://x.com/i/oauth2/authorize", tokenURL: "https://api.x.com/2/oauth2/token",
            userInfoURL: "https://api.x.com/2/users/me?user.fields=profile_image_url", scopes: scopes,
            profile: { response, _, _ in
                guard let user = response["data"], let id = user["id"].flatMap(Profile.text) else { return nil }
                return Profile(id: id, name: user["name"]?.stringValue, image: user["profile_image_url"]?.stringValue)
            }))
    }

    /// Zoom.
    public static func zoom(clientID: String, clientSecret: String, scopes: [String] = []) -> OAuth2Provider {
        OAuth2Provider(displayName: "Zoom", configuration: .init(
            credentials: ClientCredentials(id: clientID, secret: clientSecret),
            authorizationURL: "https://zoom.us/oauth/authorize", tokenURL: "https://zoom.us/oauth/token",
            userInfoURL: "https://api.zoom.us/v2/users/me", scopes: scopes,
            profile: { user, _, _ in
                guard let id = user["id"].flatMap(Profile.text) else { return nil }
                let name = [user["first_name"]?.stringValue, user["last_name"]?.stringValue].compactMap { $0 }.joined(separator: " ")
                return Profile(id: id, email: user["email"]?.stringValue, emailVerified: user["verified"]?.int64Value == 1,
                               name: name.isEmpty ? nil : name, image: user["pic_url"]?.stringValue)
            }))
    }
}

/// GitHub's profile: the user, and the primary verified address from `/user/emails`.
enum GitHubProfile {
    static func profile(user: JSONObject, emails: JSONValue?) -> Profile? {
        guard let id = user["id"].flatMap(Profile.text) else { return nil }
        let primary = emails?.arrayValue?.first { $0["primary"]?.boolValue == true && $0["verified"]?.boolValue == true }
        return Profile(
            id: id, email: primary?["email"]?.stringValue, emailVerified: primary != nil,
            name: user["name"]?.stringValue ?? user["login"]?.stringValue, image: user["avatar_url"]?.stringValue)
    }
}
