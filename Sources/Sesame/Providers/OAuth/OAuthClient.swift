import Foundation
import HTTPTypes
import Logging

/// How a client authenticates at the token endpoint (RFC 6749 §2.3).
public struct ClientAuthentication: Sendable, Hashable {
    enum Base: Sendable, Hashable { case basic, post, none }
    let base: Base

    /// HTTP Basic with the URL-encoded client ID and secret (`client_secret_basic`, the default).
    public static let basic = ClientAuthentication(base: .basic)
    /// The client ID and secret in the form body (`client_secret_post`).
    public static let post = ClientAuthentication(base: .post)
    /// A public client: only the client ID, in the form body (PKCE protects the code).
    public static let none = ClientAuthentication(base: .none)
}

/// A client's credentials at an identity provider.
public struct ClientCredentials: Sendable {
    /// The client ID.
    public var id: String
    private let secretProvider: (@Sendable () throws -> String)?

    /// Credentials with a fixed secret (or none, for public clients).
    public init(id: String, secret: String?) {
        self.id = id
        self.secretProvider = secret.map { secret in { @Sendable in secret } }
    }

    /// Credentials whose secret is made per request, for example Apple's client-secret JWT.
    public init(id: String, secret: @escaping @Sendable () throws -> String) {
        self.id = id
        self.secretProvider = secret
    }

    func secret() throws -> String? { try secretProvider?() }
}

/// Where an OAuth 2.0 / OpenID Connect provider's endpoints are.
struct OAuthEndpoints: Sendable {
    var authorization: String
    var token: String
    var userInfo: String?
    /// The issuer, for OpenID Connect (and the RFC 9207 `iss` check).
    var issuer: String?
    /// Whether the provider says it sends `iss` with authorization responses (RFC 9207), which then is required.
    var sendsIssuerInResponse: Bool
}

/// The authorization code flow with PKCE, shared by ``OAuth2Provider`` and ``OIDCProvider``.
///
/// Authorize: a fresh 256-bit `state`, PKCE verifier (S256 only) and, for OpenID Connect, `nonce`, kept in the
/// encrypted flow cookie; a redirect to the authorization endpoint. Callback: the provider's error (if any),
/// the flow cookie (this provider's, unexpired, redeemed once), the `state` (constant-time), the RFC 9207
/// `iss`, then the code exchange with the verifier and the client's authentication.
struct OAuthClient: Sendable {
    var credentials: ClientCredentials
    var authentication: ClientAuthentication
    var scopes: [String]
    var authorizationParameters: [(String, String)]
    /// `form_post` providers (Apple) post the response back cross-site.
    var usesFormPost: Bool
    var http: ProviderHTTPClient
    var now: @Sendable () -> Double

    // MARK: Authorize

    func authorize(_ request: AuthRequest, context: AuthContext, endpoints: OAuthEndpoints, usesNonce: Bool) throws(AuthError) -> AuthResponse {
        let returnTo = request.parameters["returnTo"].flatMap(context.configuration.redirectPolicy.allowed)
        let flow = FlowState.start(provider: context.provider, issuer: endpoints.issuer, returnTo: returnTo, usesNonce: usesNonce)
        var query: [(String, String)] = [
            ("response_type", "code"),
            ("client_id", credentials.id),
            ("redirect_uri", context.callbackURL),
            ("state", flow.state),
            ("code_challenge", flow.challenge),
            ("code_challenge_method", "S256"),
        ]
        if !scopes.isEmpty { query.append(("scope", scopes.joined(separator: " "))) }
        if let nonce = flow.nonce { query.append(("nonce", nonce)) }
        if usesFormPost { query.append(("response_mode", "form_post")) }
        let reserved = Set(query.map(\.0))
        query += authorizationParameters.filter { !reserved.contains($0.0) }
        let separator = endpoints.authorization.contains("?") ? "&" : "?"
        let location = endpoints.authorization + separator + URLEncodedForm(query.map { (name: $0.0, value: $0.1) }).encoded
        var response = AuthResponse.redirect(to: location)
        response.head.headerFields.append(HTTPField(name: .setCookie, value: try flow.setCookie(context: context, now: now(), crossSite: usesFormPost)))
        response.head.headerFields[.referrerPolicy] = "no-referrer"
        return response
    }

    // MARK: Callback

    /// Checks the callback and exchanges its code.
    ///
    /// - Returns: The flow and the token set.
    func callback(_ request: AuthRequest, context: AuthContext, endpoints: OAuthEndpoints) async throws(AuthError) -> (FlowState, TokenSet) {
        let parameters = request.parameters
        if let error = parameters["error"] {
            throw error == "access_denied"
                ? AuthError.accessDenied.with(detail: "the identity provider says the user refused")
                : AuthError.oauthCallback.with(detail: "the identity provider answered \(error.prefix(64))")
        }
        let (flow, code) = try await context.timed(.stateCheck) { () async throws(AuthError) -> (FlowState, String) in
            let flow = try FlowState.read(from: request, context: context, now: now)
            guard let state = parameters["state"], ConstantTime.equals(Array(state.utf8), Array(flow.state.utf8)) else {
                throw AuthError.invalidState.with(detail: "the state does not match this browser's sign-in")
            }
            if let issuer = endpoints.issuer {
                if let returned = parameters["iss"] {
                    guard returned == issuer else { throw AuthError.oauthCallback.with(detail: "the authorization response names another issuer") }
                } else if endpoints.sendsIssuerInResponse {
                    throw AuthError.oauthCallback.with(detail: "the authorization response lacks the issuer it promises")
                }
            }
            guard let code = parameters["code"], !code.isEmpty else { throw AuthError.invalidRequest.with(detail: "the callback has no code") }
            let first: Bool
            do {
                first = try await context.configuration.metrics.measure(context.flowReplay, "consume", tracer: context.configuration.tracer) {
                    try await context.flowReplay.consume(flow.id, expiresAt: Date(timeIntervalSince1970: now() + FlowState.lifetime))
                }
            } catch {
                throw AuthError.unavailable
            }
            guard first else { throw AuthError.invalidState.with(detail: "this sign-in was already completed") }
            return (flow, code)
        }
        let tokens = try await context.timed(.codeExchange) { () async throws(AuthError) -> TokenSet in
            try await exchange(code: code, verifier: flow.verifier, context: context, endpoints: endpoints)
        }
        return (flow, tokens)
    }

    /// The code exchange at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5).
    func exchange(code: String, verifier: String, context: AuthContext, endpoints: OAuthEndpoints) async throws(AuthError) -> TokenSet {
        let form: [(name: String, value: String)] = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", context.callbackURL), ("code_verifier", verifier),
        ]
        switch try await tokenRequest(form, endpoints: endpoints) {
        case .tokens(let tokens):
            return tokens
        case .unreachable(let detail):
            throw AuthError.oauthCallback.with(detail: detail)
        case .refused(let error):
            throw AuthError.oauthCallback.with(detail: "the token endpoint refused the code: \(error.prefix(64))")
        }
    }

    /// A refresh at the token endpoint (RFC 6749 §6). A provider that does not rotate refresh tokens answers
    /// without one: the old one stays.
    func refresh(_ refreshToken: String, endpoints: OAuthEndpoints) async throws(TokenRefreshError) -> TokenSet {
        let response: TokenResponse
        do {
            response = try await tokenRequest([("grant_type", "refresh_token"), ("refresh_token", refreshToken)], endpoints: endpoints)
        } catch {
            throw TokenRefreshError.unavailable(error.detail ?? error.code)
        }
        switch response {
        case .tokens(var tokens):
            if tokens.refreshToken == nil { tokens.refreshToken = refreshToken }
            return tokens
        case .unreachable(let detail):
            throw TokenRefreshError.unavailable(detail)
        case .refused(let error):
            throw error == "invalid_grant" ? TokenRefreshError.refused(error) : TokenRefreshError.unavailable("the token endpoint answered \(error.prefix(64))")
        }
    }

    /// What the token endpoint answered.
    enum TokenResponse {
        case tokens(TokenSet)
        /// Not reached, or no usable answer (no JSON, a 5xx, no access token).
        case unreachable(String)
        /// An OAuth error (`invalid_grant`, …).
        case refused(String)
    }

    /// A request to the token endpoint with the client's authentication.
    func tokenRequest(_ grant: [(name: String, value: String)], endpoints: OAuthEndpoints) async throws(AuthError) -> TokenResponse {
        var form = grant
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .accept: "application/json"]
        let secret: String?
        do {
            secret = try credentials.secret()
        } catch {
            throw AuthError.serverError.with(detail: "the client secret cannot be made")
        }
        switch authentication.base {
        case .basic:
            let user = credentials.id.addingPercentEncodingForQuery(), password = (secret ?? "").addingPercentEncodingForQuery()
            headers[.authorization] = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .post:
            form.append(("client_id", credentials.id))
            if let secret { form.append(("client_secret", secret)) }
        case .none:
            form.append(("client_id", credentials.id))
        }
        let response: ProviderHTTPClient.Response
        do {
            response = try await http.send(.post, endpoints.token, headers: headers, body: Array(URLEncodedForm(form).encoded.utf8))
        } catch {
            return .unreachable("the token endpoint cannot be reached")
        }
        guard case .object(let json)? = try? JSONValue(parsing: response.body) else {
            return .unreachable("the token endpoint answered \(response.status.code) without a JSON object")
        }
        guard response.status.code == 200 else {
            if response.status.code >= 500 { return .unreachable("the token endpoint answered \(response.status.code)") }
            return .refused(json["error"]?.stringValue ?? "HTTP \(response.status.code)")
        }
        guard let tokens = TokenSet(json: json, now: Date(timeIntervalSince1970: now())) else {
            return .unreachable("the token response has no access token")
        }
        return .tokens(tokens)
    }

    /// Fetches a JSON object with the access token (user-info and similar endpoints).
    func fetchJSON(_ url: String, tokens: TokenSet, headers extra: HTTPFields = [:]) async throws(AuthError) -> JSONValue {
        var headers: HTTPFields = [.authorization: "Bearer \(tokens.accessToken)", .accept: "application/json"]
        for field in extra { headers[field.name] = field.value }
        let response: ProviderHTTPClient.Response
        do {
            response = try await http.send(.get, url, headers: headers)
        } catch {
            throw AuthError.oauthCallback.with(detail: "the user-info endpoint cannot be reached")
        }
        guard response.status.code == 200, let json = try? JSONValue(parsing: response.body) else {
            throw AuthError.oauthCallback.with(detail: "the user-info endpoint answered \(response.status.code) without JSON")
        }
        return json
    }

    /// The flow-state cookie, which the handler clears when the callback ends.
    func flowCookie(context: AuthContext) -> SessionCookie {
        FlowState.cookie(for: context.provider, configuration: context.configuration, crossSite: usesFormPost)
    }
}
