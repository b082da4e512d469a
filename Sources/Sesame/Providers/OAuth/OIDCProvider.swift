import Foundation
import HTTPTypes
import Synchronization

/// Sign-in with an OpenID Connect provider: discovery, the code flow with PKCE, `state` and `nonce`, and a
/// strictly verified ID token (OpenID Connect Core 1.0 §3.1, RFC 9700, RFC 9207).
///
/// - Discovery reads `{issuer}/.well-known/openid-configuration` once and caches it; its `issuer` must be the
///   configured issuer exactly.
/// - The JWKS is cached; a token signed with an unknown `kid` triggers one refetch (at most once a minute),
///   which is how providers rotate keys.
/// - The ID token goes through Sesame's strict JOSE layer: the JWKS key decides the algorithm, `iss` is
///   compared exactly, `aud` must contain the client ID (and `azp`, when present or when there are several
///   audiences, must be the client ID), `exp` and `iat` are checked with 60 s leeway, and `nonce` must be the
///   flow's. The RFC 9207 `iss` response parameter is checked when present and required when advertised.
public struct OIDCProvider: AuthProvider {
    /// The issuer, credentials and flow options.
    public struct Configuration: Sendable {
        /// The issuer URL, exactly as in the provider's metadata (for example `https://accounts.google.com`).
        public var issuer: String
        /// The client's ID and secret.
        public var credentials: ClientCredentials
        /// How the client authenticates at the token endpoint (default Basic).
        public var clientAuthentication: ClientAuthentication
        /// The scopes (default `openid email profile`).
        public var scopes: [String]
        /// Extra authorization parameters (`prompt`, …); they never override the flow's own.
        public var authorizationParameters: [(String, String)]
        /// Whether the provider posts its response back (`response_mode=form_post`, as Apple does).
        public var usesFormPost: Bool
        /// Whether to fetch the user-info endpoint and merge it into the claims (default `false`).
        public var fetchesUserInfo: Bool
        /// The issuer the ID token must name, when it differs from the configured issuer (multi-tenant Entra ID
        /// uses a per-tenant issuer); `nil` uses ``issuer``.
        public var expectedIssuer: (@Sendable (_ claims: JSONObject) -> String?)?
        /// The `issuer` the discovery document must name, when it is a template rather than ``issuer``
        /// (Entra ID's `common` endpoint says `https://login.microsoftonline.com/{tenantid}/v2.0`).
        public var discoveryIssuer: String?
        /// Reads the profile from the ID token claims (merged with user-info when fetched).
        public var profile: @Sendable (_ claims: JSONObject) -> Profile?

        /// Creates a configuration.
        public init(
            issuer: String,
            credentials: ClientCredentials,
            clientAuthentication: ClientAuthentication = .basic,
            scopes: [String] = ["openid", "email", "profile"],
            authorizationParameters: [(String, String)] = [],
            usesFormPost: Bool = false,
            fetchesUserInfo: Bool = false,
            expectedIssuer: (@Sendable (_ claims: JSONObject) -> String?)? = nil,
            discoveryIssuer: String? = nil,
            profile: @escaping @Sendable (_ claims: JSONObject) -> Profile? = Profile.openIDConnect
        ) {
            // Kept exactly as given: issuers are compared as strings, and some end in "/" (Auth0).
            self.issuer = issuer
            self.discoveryIssuer = discoveryIssuer
            self.credentials = credentials
            self.clientAuthentication = clientAuthentication
            self.scopes = scopes
            self.authorizationParameters = authorizationParameters
            self.usesFormPost = usesFormPost
            self.fetchesUserInfo = fetchesUserInfo
            self.expectedIssuer = expectedIssuer
            self.profile = profile
        }
    }

    public let type = "oidc"
    public let displayName: String
    /// The configuration.
    public let configuration: Configuration
    let client: OAuthClient
    let metadata: ProviderMetadataCache
    private let now: @Sendable () -> Double

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - displayName: A name for people.
    ///   - configuration: Issuer, credentials and options.
    ///   - http: How to reach the provider (default: no redirects, timeouts, size cap).
    ///   - now: The clock, in seconds since 1970.
    public init(displayName: String, configuration: Configuration, http: ProviderHTTPClient = .shared, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.displayName = displayName
        self.configuration = configuration
        self.now = now
        self.client = OAuthClient(
            credentials: configuration.credentials, authentication: configuration.clientAuthentication, scopes: configuration.scopes,
            authorizationParameters: configuration.authorizationParameters, usesFormPost: configuration.usesFormPost, http: http, now: now)
        self.metadata = ProviderMetadataCache(issuer: configuration.issuer, discoveryIssuer: configuration.discoveryIssuer, http: http, now: now)
    }

    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        let discovered = try await metadata.discover()
        return try client.authorize(request, context: context, endpoints: discovered.endpoints, usesNonce: true)
    }

    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        let discovered = try await discoverForCallback()
        let (flow, tokens) = try await client.callback(request, context: context, endpoints: discovered.endpoints)
        guard let idToken = tokens.idToken else { throw AuthError.invalidIDToken.with(detail: "the token response has no ID token") }
        var claims = try await context.timed(.idTokenVerification) { () async throws(AuthError) -> JSONObject in
            try await verifyIDToken(idToken, nonce: flow.nonce)
        }
        if configuration.fetchesUserInfo, let userInfoURL = discovered.endpoints.userInfo,
            case .object(let userInfo) = try await context.timed(.userInfo, { () async throws(AuthError) -> JSONValue in
                try await client.fetchJSON(userInfoURL, tokens: tokens)
            })
        {
            // OpenID Connect Core §5.3.2: the user-info `sub` must be the ID token's.
            guard userInfo["sub"] == claims["sub"] else { throw AuthError.oauthCallback.with(detail: "the user-info subject differs from the ID token's") }
            for (name, value) in userInfo where claims[name] == nil { claims[name] = value }
        }
        guard let profile = configuration.profile(claims) else { throw AuthError.invalidIDToken.with(detail: "the ID token has no subject") }
        return .signedIn(ProviderIdentity(claims: claims, tokens: tokens, profile: profile, rawProfile: claims, returnTo: flow.returnTo))
    }

    /// The flow-state cookie.
    public func flowCookies(context: AuthContext) -> [SessionCookie] { [client.flowCookie(context: context)] }

    /// Discovery during a callback: a failure there is a callback error, not a sign-in error.
    private func discoverForCallback() async throws(AuthError) -> ProviderMetadataCache.Metadata {
        do {
            return try await metadata.discover()
        } catch {
            throw AuthError.oauthCallback.with(detail: error.detail ?? "discovery failed")
        }
    }

    /// Verifies an ID token and returns its claims.
    func verifyIDToken(_ idToken: String, nonce: String?) async throws(AuthError) -> JSONObject {
        let verified: JWT.Verified
        let validation = TokenValidation(audience: configuration.credentials.id, leeway: 60, now: now)
        do {
            do {
                verified = try JWT.verify(idToken, keys: try await metadata.keys(), validation: validation)
            } catch let error as TokenError where error == .unknownKeyID {
                // The provider may have rotated its keys: refetch the JWKS once (rate-limited) and try again.
                verified = try JWT.verify(idToken, keys: try await metadata.keys(refreshing: true), validation: validation)
            }
        } catch let error as TokenError {
            throw AuthError.invalidIDToken.with(detail: "the ID token is not valid (\(error.code))")
        } catch let error as AuthError {
            throw error
        } catch {
            throw AuthError.invalidIDToken
        }
        let claims = verified.payload
        let issuer = configuration.expectedIssuer?(claims) ?? configuration.issuer
        guard verified.claims.issuer == issuer else { throw AuthError.invalidIDToken.with(detail: "the ID token names another issuer") }
        guard verified.claims.issuedAt != nil, verified.claims.subject != nil else {
            throw AuthError.invalidIDToken.with(detail: "the ID token lacks iat or sub")
        }
        let azp = claims["azp"]?.stringValue
        if verified.claims.audience.count > 1 || azp != nil {
            guard azp == configuration.credentials.id else { throw AuthError.invalidIDToken.with(detail: "the ID token's azp is not this client") }
        }
        if let nonce {
            guard let tokenNonce = claims["nonce"]?.stringValue, ConstantTime.equals(Array(tokenNonce.utf8), Array(nonce.utf8)) else {
                throw AuthError.invalidIDToken.with(detail: "the ID token's nonce is not this sign-in's")
            }
        }
        return claims
    }
}

/// The discovered metadata and JWKS of one issuer, cached.
final class ProviderMetadataCache: Sendable {
    struct Metadata: Sendable {
        var endpoints: OAuthEndpoints
        var jwksURL: String
    }

    private struct State: Sendable {
        var metadata: Metadata?
        var keys: KeySet?
        var keysFetchedAt: Double = -.infinity
        var lastForcedRefetch: Double = -.infinity
    }

    let issuer: String
    let discoveryIssuer: String?
    private let http: ProviderHTTPClient
    private let now: @Sendable () -> Double
    private let state = Mutex(State())
    /// How long discovery and keys are trusted before they are fetched again.
    static let lifetime: Double = 3600
    /// The least time between two JWKS fetches forced by unknown key IDs (so a flood of forged `kid`s costs
    /// the provider at most one request a minute).
    static let refetchInterval: Double = 60

    init(issuer: String, discoveryIssuer: String?, http: ProviderHTTPClient, now: @escaping @Sendable () -> Double) {
        self.issuer = issuer
        self.discoveryIssuer = discoveryIssuer
        self.http = http
        self.now = now
    }

    /// The provider's metadata, from the cache or from `{issuer}/.well-known/openid-configuration`.
    func discover() async throws(AuthError) -> Metadata {
        if let cached = state.withLock({ $0.metadata }) { return cached }
        let response: ProviderHTTPClient.Response
        do {
            let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
            response = try await http.send(.get, base + "/.well-known/openid-configuration", headers: [.accept: "application/json"])
        } catch {
            throw AuthError.oauthSignin.with(detail: "the provider's discovery document cannot be fetched")
        }
        guard response.status.code == 200, case .object(let document)? = try? JSONValue(parsing: response.body) else {
            throw AuthError.oauthSignin.with(detail: "the provider's discovery document is not valid")
        }
        guard document["issuer"]?.stringValue == (discoveryIssuer ?? issuer) else {
            throw AuthError.oauthSignin.with(detail: "the discovery document names another issuer")
        }
        guard let authorization = document["authorization_endpoint"]?.stringValue, let token = document["token_endpoint"]?.stringValue,
            let jwks = document["jwks_uri"]?.stringValue
        else { throw AuthError.oauthSignin.with(detail: "the discovery document lacks endpoints") }
        if let methods = document["code_challenge_methods_supported"]?.arrayValue, !methods.contains("S256") {
            throw AuthError.oauthSignin.with(detail: "the provider does not support PKCE with S256")
        }
        let metadata = Metadata(
            endpoints: OAuthEndpoints(
                authorization: authorization, token: token, userInfo: document["userinfo_endpoint"]?.stringValue,
                // A templated issuer cannot be checked against the response's `iss`; the ID token's is checked.
                issuer: discoveryIssuer == nil ? issuer : nil,
                sendsIssuerInResponse: document["authorization_response_iss_parameter_supported"]?.boolValue ?? false),
            jwksURL: jwks)
        state.withLock { $0.metadata = metadata }
        return metadata
    }

    /// The provider's signing keys, from the cache or its JWKS.
    ///
    /// - Parameter refreshing: Fetch again (unless a forced fetch happened less than a minute ago).
    func keys(refreshing: Bool = false) async throws(AuthError) -> KeySet {
        let current = now()
        let cached = state.withLock { state -> KeySet? in
            guard let keys = state.keys else { return nil }
            if refreshing {
                if current - state.lastForcedRefetch < ProviderMetadataCache.refetchInterval { return keys }
                state.lastForcedRefetch = current
                return nil
            }
            return current - state.keysFetchedAt < ProviderMetadataCache.lifetime ? keys : nil
        }
        if let cached { return cached }
        let metadata = try await discover()
        let response: ProviderHTTPClient.Response
        do {
            response = try await http.send(.get, metadata.jwksURL, headers: [.accept: "application/json"])
        } catch {
            throw AuthError.oauthCallback.with(detail: "the provider's keys cannot be fetched")
        }
        guard response.status.code == 200 else { throw AuthError.oauthCallback.with(detail: "the provider's keys cannot be fetched") }
        // Keys this provider cannot sign ID tokens with (encryption keys, unsupported curves) are skipped.
        guard case .array(let entries)? = (try? JSONValue(parsing: response.body))?["keys"] else {
            throw AuthError.oauthCallback.with(detail: "the provider's JWKS is not valid")
        }
        var keys: [JWK] = []
        for entry in entries {
            guard case .object(let object) = entry, object["use"]?.stringValue ?? "sig" == "sig",
                let key = try? JWK(jsonObject: object), key.algorithm.isSigning, !key.isSymmetric
            else { continue }
            if !keys.contains(where: { $0.keyID == key.keyID }) { keys.append(key) }
        }
        guard !keys.isEmpty, let keySet = try? KeySet(verificationKeys: keys) else {
            throw AuthError.oauthCallback.with(detail: "the provider's JWKS has no usable signing key")
        }
        state.withLock {
            $0.keys = keySet
            $0.keysFetchedAt = current
        }
        return keySet
    }
}

extension OIDCProvider: RedirectingProvider {
    /// The issuer's origin (where discovery usually puts the authorization endpoint).
    var authorizationOrigin: String? { OriginPolicy.origin(of: configuration.issuer) }
}
