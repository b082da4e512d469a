import Foundation

/// Ready-made OpenID Connect providers: each is the generic ``OIDCProvider`` with the provider's issuer and
/// its quirks, nothing more.
extension OIDCProvider {
    /// Google, as an OpenID Connect provider (SST's `GoogleAdapter` in `oidc` mode).
    public static func google(clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"], parameters: [(String, String)] = []) -> OIDCProvider {
        OIDCProvider(displayName: "Google", configuration: .init(
            issuer: "https://accounts.google.com", credentials: ClientCredentials(id: clientID, secret: clientSecret),
            scopes: scopes, authorizationParameters: parameters))
    }

    /// Twitch (OpenID Connect; it wants the client secret in the form body).
    public static func twitch(clientID: String, clientSecret: String, scopes: [String] = ["openid", "user:read:email"]) -> OIDCProvider {
        OIDCProvider(displayName: "Twitch", configuration: .init(
            issuer: "https://id.twitch.tv/oauth2", credentials: ClientCredentials(id: clientID, secret: clientSecret), clientAuthentication: .post,
            scopes: scopes, authorizationParameters: [("claims", #"{"id_token":{"email":null,"email_verified":null,"preferred_username":null,"picture":null}}"#)]))
    }

    /// Sign in with Apple: the response comes back as a form post, and the client secret is an ES256 JWT made
    /// from the team's private key (regenerated for every token request, valid for an hour).
    ///
    /// - Parameters:
    ///   - servicesID: The Services ID (the client ID).
    ///   - teamID: The Apple developer team ID.
    ///   - keyID: The ID of the Sign in with Apple key.
    ///   - privateKeyPEM: The key's `.p8` contents.
    ///   - scopes: The scopes to ask for (default `openid`, `email` and `name`).
    public static func apple(servicesID: String, teamID: String, keyID: String, privateKeyPEM: String, scopes: [String] = ["openid", "email", "name"]) throws -> OIDCProvider {
        let key = try JWK(pem: privateKeyPEM, algorithm: .es256, keyID: keyID)
        let secret: @Sendable () throws -> String = {
            let now = Int64(Date().timeIntervalSince1970)
            let claims: JSONObject = [
                "iss": .string(teamID), "iat": .integer(now), "exp": .integer(now + 3600), "aud": "https://appleid.apple.com", "sub": .string(servicesID),
            ]
            return try JWT.issue(claims, key: key)
        }
        return OIDCProvider(displayName: "Apple", configuration: .init(
            issuer: "https://appleid.apple.com", credentials: ClientCredentials(id: servicesID, secret: secret), clientAuthentication: .post,
            scopes: scopes, usesFormPost: true))
    }

    /// Microsoft Entra ID. `tenant` is a tenant (directory) ID, or `common`, `organizations` or `consumers` for
    /// multi-tenant apps, whose ID tokens are checked against their own tenant's issuer.
    ///
    /// Entra does not verify the `email` claim, so the profile's `emailVerified` is never `true` (the "nOAuth"
    /// account-takeover); identify Entra users by `profile.id` (their `sub`) or the `oid` claim, not by email.
    ///
    /// - Precondition: `tenant` is a GUID or one of the three multi-tenant names (a domain name cannot be
    ///   checked: Entra's issuer names the GUID).
    public static func microsoftEntraID(tenant: String = "common", clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        let multiTenant = ["common", "organizations", "consumers"].contains(tenant)
        precondition(multiTenant || UUID(uuidString: tenant) != nil, "the Entra tenant must be its directory ID (a GUID), or common, organizations or consumers")
        let tenantIssuer: @Sendable (JSONObject) -> String? = { claims in
            claims["tid"]?.stringValue.map { "https://login.microsoftonline.com/\($0)/v2.0" }
        }
        let profile: @Sendable (JSONObject) -> Profile? = { claims in
            var claims = claims
            if claims["email"] == nil { claims["email"] = claims["preferred_username"] }
            var profile = Profile.openIDConnect(claims)
            profile?.emailVerified = false
            return profile
        }
        let configuration = Configuration(
            issuer: "https://login.microsoftonline.com/\(tenant)/v2.0", credentials: ClientCredentials(id: clientID, secret: clientSecret),
            scopes: scopes, expectedIssuer: multiTenant ? tenantIssuer : nil,
            discoveryIssuer: multiTenant ? "https://login.microsoftonline.com/{tenantid}/v2.0" : nil, profile: profile)
        return OIDCProvider(displayName: "Microsoft", configuration: configuration)
    }

    /// GitLab (gitlab.com or a self-hosted instance at `baseURL`).
    public static func gitlab(baseURL: String = "https://gitlab.com", clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "GitLab", configuration: .init(
            issuer: baseURL, credentials: ClientCredentials(id: clientID, secret: clientSecret), scopes: scopes))
    }

    /// Slack ("Sign in with Slack", OpenID Connect).
    public static func slack(clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "Slack", configuration: .init(
            issuer: "https://slack.com", credentials: ClientCredentials(id: clientID, secret: clientSecret), clientAuthentication: .post, scopes: scopes))
    }

    /// LinkedIn ("Sign In with LinkedIn using OpenID Connect").
    public static func linkedIn(clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "LinkedIn", configuration: .init(
            issuer: "https://www.linkedin.com/oauth", credentials: ClientCredentials(id: clientID, secret: clientSecret), clientAuthentication: .post,
            scopes: scopes))
    }

    /// Auth0, for the tenant at `domain` (for example `example.eu.auth0.com`).
    public static func auth0(domain: String, clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "Auth0", configuration: .init(
            issuer: "https://\(domain)/", credentials: ClientCredentials(id: clientID, secret: clientSecret), scopes: scopes))
    }

    /// Okta, for the org at `domain` and its authorization server (default: `default`).
    public static func okta(domain: String, authorizationServer: String? = "default", clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "Okta", configuration: .init(
            issuer: "https://\(domain)" + (authorizationServer.map { "/oauth2/\($0)" } ?? ""),
            credentials: ClientCredentials(id: clientID, secret: clientSecret), scopes: scopes))
    }

    /// Keycloak, for the realm at `realmURL` (for example `https://sso.example.com/realms/staff`).
    public static func keycloak(realmURL: String, clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "Keycloak", configuration: .init(
            issuer: realmURL, credentials: ClientCredentials(id: clientID, secret: clientSecret), scopes: scopes))
    }

    /// Amazon Cognito, for the user pool `userPoolID` in `region`.
    public static func cognito(region: String, userPoolID: String, clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "Amazon Cognito", configuration: .init(
            issuer: "https://cognito-idp.\(region).amazonaws.com/\(userPoolID)", credentials: ClientCredentials(id: clientID, secret: clientSecret),
            scopes: scopes))
    }

    /// Salesforce (production orgs; pass `https://test.salesforce.com` as `issuer` for sandboxes).
    public static func salesforce(issuer: String = "https://login.salesforce.com", clientID: String, clientSecret: String, scopes: [String] = ["openid", "email", "profile"]) -> OIDCProvider {
        OIDCProvider(displayName: "Salesforce", configuration: .init(
            issuer: issuer, credentials: ClientCredentials(id: clientID, secret: clientSecret), scopes: scopes))
    }
}
