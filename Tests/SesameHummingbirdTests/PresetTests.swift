import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Sesame
import SesameHummingbird
import Testing

/// Presets are declarations over the generic providers: their endpoints, credentials and profile mappings.
@Suite(.timeLimit(.minutes(3))) struct PresetTests {
    static let oauthPresets: [(String, OAuth2Provider, String)] = [
        ("google", .google(clientID: "id", clientSecret: "secret"), "https://accounts.google.com/o/oauth2/v2/auth?"),
        ("github", .github(clientID: "id", clientSecret: "secret"), "https://github.com/login/oauth/authorize?"),
        ("discord", .discord(clientID: "id", clientSecret: "secret"), "https://discord.com/oauth2/authorize?"),
        ("facebook", .facebook(clientID: "id", clientSecret: "secret"), "https://www.facebook.com/v19.0/dialog/oauth?"),
        ("bitbucket", .bitbucket(clientID: "id", clientSecret: "secret"), "https://bitbucket.org/site/oauth2/authorize?"),
        ("spotify", .spotify(clientID: "id", clientSecret: "secret"), "https://accounts.spotify.com/authorize?"),
        ("x", .x(clientID: "id", clientSecret: nil), "https://x.com/i/oauth2/authorize?"),
        ("zoom", .zoom(clientID: "id", clientSecret: "secret"), "https://zoom.us/oauth/authorize?"),
    ]

    @Test func oauthPresetsRedirectWithPKCE() async throws {
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        var providers: [String: any AuthProvider] = [:]
        for (name, provider, _) in Self.oauthPresets { providers[name] = provider }
        let handler = AuthHandler(providers: providers, configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys) { _ in .json([:]) }
        let router = Router(context: BasicSesameRequestContext<TestSession>.self)
        router.addAuthHandler(handler)
        try await Application(router: router).test(.router) { client in
            for (name, _, prefix) in Self.oauthPresets {
                try await client.execute(uri: "/auth/\(name)/authorize", method: .get) { response in
                    let location = try #require(response.headers[.location], "\(name)")
                    #expect(location.hasPrefix(prefix), "\(name): \(location)")
                    let query = URLEncodedForm(parsing: location.split(separator: "?", maxSplits: 1)[1])
                    #expect(query["code_challenge_method"] == "S256", "\(name)")
                    #expect(query["redirect_uri"] == "https://app.example/auth/\(name)/callback")
                    #expect(query["client_id"] == "id")
                    // On https the flow cookie is `__Host-` prefixed (so `Path=/`), Secure and HttpOnly.
                    let cookie = try #require(response.headers[.setCookie])
                    #expect(cookie.hasPrefix("__Host-sesame-flow-\(name)="), "\(name)")
                    #expect(cookie.contains("; Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/;") && cookie.contains("SameSite=Lax"))
                }
            }
        }
    }

    @Test func oidcPresetsNameTheirIssuers() throws {
        let issuers: [(OIDCProvider, String)] = [
            (.google(clientID: "id", clientSecret: "s"), "https://accounts.google.com"),
            (.twitch(clientID: "id", clientSecret: "s"), "https://id.twitch.tv/oauth2"),
            (.microsoftEntraID(tenant: "9188040d-6c67-4c5b-b112-36a304b66dad", clientID: "id", clientSecret: "s"), "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"),
            (.gitlab(baseURL: "https://git.example.com", clientID: "id", clientSecret: "s"), "https://git.example.com"),
            (.slack(clientID: "id", clientSecret: "s"), "https://slack.com"),
            (.linkedIn(clientID: "id", clientSecret: "s"), "https://www.linkedin.com/oauth"),
            (.auth0(domain: "tenant.eu.auth0.com", clientID: "id", clientSecret: "s"), "https://tenant.eu.auth0.com/"),
            (.okta(domain: "example.okta.com", clientID: "id", clientSecret: "s"), "https://example.okta.com/oauth2/default"),
            (.keycloak(realmURL: "https://sso.example.com/realms/staff", clientID: "id", clientSecret: "s"), "https://sso.example.com/realms/staff"),
            (.cognito(region: "eu-west-1", userPoolID: "eu-west-1_abc", clientID: "id", clientSecret: "s"), "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"),
            (.salesforce(clientID: "id", clientSecret: "s"), "https://login.salesforce.com"),
        ]
        for (provider, issuer) in issuers {
            #expect(provider.configuration.issuer == issuer)
            #expect(provider.configuration.scopes.contains("openid"))
        }
    }

    @Test func entraMultiTenantChecksEachTenantsIssuer() {
        let common = OIDCProvider.microsoftEntraID(clientID: "id", clientSecret: "s")
        #expect(common.configuration.discoveryIssuer == "https://login.microsoftonline.com/{tenantid}/v2.0")
        #expect(common.configuration.expectedIssuer?(["tid": "1234"]) == "https://login.microsoftonline.com/1234/v2.0")
        #expect(common.configuration.profile(["sub": "s", "preferred_username": "ada@contoso.com"])?.email == "ada@contoso.com")
        // Entra does not verify email addresses, whatever a token claims ("nOAuth").
        #expect(common.configuration.profile(["sub": "s", "email": "ceo@victim.example", "email_verified": true])?.emailVerified == false)
        let single = OIDCProvider.microsoftEntraID(tenant: "9188040d-6c67-4c5b-b112-36a304b66dad", clientID: "id", clientSecret: "s")
        #expect(single.configuration.expectedIssuer == nil)
    }

    @Test func appleClientSecretIsAnES256JWT() throws {
        let teamKey = try JWK.generate(.es256, keyID: "KEY123")
        let apple = try OIDCProvider.apple(servicesID: "com.example.web", teamID: "TEAM42", keyID: "KEY123", privateKeyPEM: teamKey.pemRepresentation!)
        #expect(apple.configuration.usesFormPost)
        let secret = try #require(try apple.configuration.credentials.secret())
        let verified = try JWT.verify(secret, keys: KeySet(verificationKeys: [teamKey.publicKey!]), validation: TokenValidation(issuer: "TEAM42", audience: "https://appleid.apple.com"))
        #expect(verified.header.keyID == "KEY123")
        #expect(verified.claims.subject == "com.example.web")
    }

    @Test func gitHubProfileUsesThePrimaryVerifiedEmail() {
        let user: JSONObject = ["id": 42, "login": "octocat", "avatar_url": "https://avatars.example/42"]
        let emails: JSONValue = [
            ["email": "old@example.com", "primary": false, "verified": true],
            ["email": "octo@example.com", "primary": true, "verified": true],
        ]
        #expect(GitHubProfile.profile(user: user, emails: emails) == Profile(id: "42", email: "octo@example.com", emailVerified: true, name: "octocat", image: "https://avatars.example/42"))
        let unverified: JSONValue = [["email": "octo@example.com", "primary": true, "verified": false]]
        #expect(GitHubProfile.profile(user: user, emails: unverified)?.email == nil)
        #expect(GitHubProfile.profile(user: ["login": "no-id"], emails: emails) == nil)
    }
}
