import Foundation
import HTTPTypes

/// Sign-in with an OAuth 2.0 provider: the authorization code flow with PKCE and `state`, then a user-info
/// fetch (RFC 6749, RFC 7636, RFC 9700).
///
/// The app's `onSuccess` receives the token set, the normalized ``Profile`` and the raw user-info response.
public struct OAuth2Provider: AuthProvider {
    /// Endpoints, credentials and how to read the profile.
    public struct Configuration: Sendable {
        /// The client's ID and secret.
        public var credentials: ClientCredentials
        /// How the client authenticates at the token endpoint (default Basic).
        public var clientAuthentication: ClientAuthentication
        /// The authorization endpoint.
        public var authorizationURL: String
        /// The token endpoint.
        public var tokenURL: String
        /// The user-info endpoint.
        public var userInfoURL: String
        /// The scopes to ask for.
        public var scopes: [String]
        /// Extra authorization parameters (`prompt`, `access_type`, …); they never override the flow's own.
        public var authorizationParameters: [(String, String)]
        /// Extra header fields for user-info requests (some APIs want a `User-Agent`).
        public var userInfoHeaders: HTTPFields
        /// Reads the profile from the user-info response; may fetch more with the tokens (GitHub's emails).
        public var profile: @Sendable (_ userInfo: JSONObject, _ tokens: TokenSet, _ fetch: ProviderFetch) async throws -> Profile?

        /// Creates a configuration; the default profile mapping reads OpenID Connect style claims
        /// (`sub` or `id`, `email`, `email_verified`, `name`, `picture`).
        public init(
            credentials: ClientCredentials,
            clientAuthentication: ClientAuthentication = .basic,
            authorizationURL: String,
            tokenURL: String,
            userInfoURL: String,
            scopes: [String] = [],
            authorizationParameters: [(String, String)] = [],
            userInfoHeaders: HTTPFields = [:],
            profile: @escaping @Sendable (_ userInfo: JSONObject, _ tokens: TokenSet, _ fetch: ProviderFetch) async throws -> Profile? = { userInfo, _, _ in
                var claims = userInfo
                if claims["sub"] == nil { claims["sub"] = claims["id"] }
                return Profile.openIDConnect(claims)
            }
        ) {
            self.credentials = credentials
            self.clientAuthentication = clientAuthentication
            self.authorizationURL = authorizationURL
            self.tokenURL = tokenURL
            self.userInfoURL = userInfoURL
            self.scopes = scopes
            self.authorizationParameters = authorizationParameters
            self.userInfoHeaders = userInfoHeaders
            self.profile = profile
        }
    }

    public let type = "oauth"
    public let displayName: String
    /// The configuration.
    public let configuration: Configuration
    let client: OAuthClient

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - displayName: A name for people.
    ///   - configuration: Endpoints, credentials and profile mapping.
    ///   - http: How to reach the provider (default: no redirects, timeouts, size cap).
    ///   - now: The clock, in seconds since 1970.
    public init(displayName: String, configuration: Configuration, http: ProviderHTTPClient = .shared, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.displayName = displayName
        self.configuration = configuration
        self.client = OAuthClient(
            credentials: configuration.credentials, authentication: configuration.clientAuthentication, scopes: configuration.scopes,
            authorizationParameters: configuration.authorizationParameters, usesFormPost: false, http: http, now: now)
    }

    var endpoints: OAuthEndpoints {
        OAuthEndpoints(authorization: configuration.authorizationURL, token: configuration.tokenURL, userInfo: configuration.userInfoURL, issuer: nil, sendsIssuerInResponse: false)
    }

    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        try client.authorize(request, context: context, endpoints: endpoints, usesNonce: false)
    }

    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        let (flow, tokens) = try await client.callback(request, context: context, endpoints: endpoints)
        let fetched = try await context.timed(.userInfo) { () async throws(AuthError) -> JSONValue in
            try await client.fetchJSON(configuration.userInfoURL, tokens: tokens, headers: configuration.userInfoHeaders)
        }
        guard case .object(let userInfo) = fetched else {
            throw AuthError.oauthCallback.with(detail: "the user-info response is not an object")
        }
        let fetch = ProviderFetch(client: client, tokens: tokens, headers: configuration.userInfoHeaders)
        let profile: Profile?
        do {
            profile = try await configuration.profile(userInfo, tokens, fetch)
        } catch let error as AuthError {
            throw error
        } catch {
            throw AuthError.oauthCallback.with(detail: "the profile cannot be read")
        }
        guard let profile else { throw AuthError.oauthCallback.with(detail: "the user-info response has no user ID") }
        return .signedIn(ProviderIdentity(claims: userInfo, tokens: tokens, profile: profile, rawProfile: userInfo, returnTo: flow.returnTo))
    }

    /// The flow-state cookie.
    public func flowCookies(context: AuthContext) -> [SessionCookie] { [client.flowCookie(context: context)] }
}

/// Lets a profile mapping fetch more from the provider's API with the user's access token.
public struct ProviderFetch: Sendable {
    let client: OAuthClient
    let tokens: TokenSet
    let headers: HTTPFields

    /// GETs a JSON document with the access token (no redirects, capped size).
    public func json(_ url: String) async throws -> JSONValue {
        try await client.fetchJSON(url, tokens: tokens, headers: headers)
    }
}

extension OAuth2Provider: RedirectingProvider {
    var authorizationOrigin: String? { OriginPolicy.origin(of: configuration.authorizationURL) }
}
