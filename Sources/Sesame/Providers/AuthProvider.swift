import Logging

/// A way to sign in: SST's adapter.
///
/// A provider handles two steps under ``AuthHandler``'s prefix, `/{name}/authorize` and `/{name}/callback`,
/// and ends a successful flow by calling ``AuthContext/success(claims:)``, which runs the app's `onSuccess`
/// (the user lookup) and returns its response, typically a session cookie or parameter redirect. Errors are
/// thrown as ``AuthError`` and answered by the handler in one place.
public protocol AuthProvider: Sendable {
    /// The kind of provider, for example `link`, `oauth` or `oidc`.
    var type: String { get }
    /// A name for people, for example `Email link` or `GitHub`.
    var displayName: String { get }

    /// Starts a sign-in: sends a link, redirects to an identity provider, …
    ///
    /// - Parameters:
    ///   - request: The request to `/{name}/authorize`.
    ///   - context: The provider's URLs, keys and the success continuation.
    /// - Returns: The response to send.
    /// - Throws: ``AuthError`` for bad input; anything else is a server error.
    func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse

    /// Finishes a sign-in and calls ``AuthContext/success(claims:)``.
    ///
    /// - Parameters:
    ///   - request: The request to `/{name}/callback`.
    ///   - context: The provider's URLs, keys and the success continuation.
    /// - Returns: The response to send (usually the app's `onSuccess` response).
    /// - Throws: ``AuthError`` for bad input; anything else is a server error.
    func callback(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse
}

/// A provider built from two closures: custom adapters, for example one that picks a tenant's identity
/// provider by a query parameter and delegates to it.
public struct CustomProvider: AuthProvider {
    public let type: String
    public let displayName: String
    private let authorizeStep: @Sendable (AuthRequest, AuthContext) async throws -> AuthResponse
    private let callbackStep: @Sendable (AuthRequest, AuthContext) async throws -> AuthResponse

    /// Creates a provider from its two steps.
    ///
    /// - Parameters:
    ///   - type: The kind of provider (default `custom`).
    ///   - displayName: A name for people.
    ///   - authorize: The authorize step.
    ///   - callback: The callback step; it ends with ``AuthContext/success(claims:)``.
    public init(
        type: String = "custom",
        displayName: String,
        authorize: @escaping @Sendable (AuthRequest, AuthContext) async throws -> AuthResponse,
        callback: @escaping @Sendable (AuthRequest, AuthContext) async throws -> AuthResponse
    ) {
        self.type = type
        self.displayName = displayName
        self.authorizeStep = authorize
        self.callbackStep = callback
    }

    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        try await authorizeStep(request, context)
    }

    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        try await callbackStep(request, context)
    }
}

/// What a provider gets from ``AuthHandler`` for one request.
public struct AuthContext: Sendable {
    /// The name the provider is mounted under, for example `link`.
    public let provider: String
    /// The absolute URL of the provider's authorize step, from the configured base URL (never the `Host`).
    public let authorizeURL: String
    /// The absolute URL of the provider's callback step, from the configured base URL (never the `Host`).
    public let callbackURL: String
    /// The handler's configuration.
    public let configuration: AuthConfiguration
    /// The keys for tokens the provider issues to itself (magic links).
    public let keys: KeySet
    /// The content-encryption key for flow-state cookies (derived from ``keys``).
    let flowKey: JWK
    /// Where single-use flow IDs are redeemed.
    let flowReplay: any ReplayStore
    /// The request's logger.
    public let logger: Logger
    let onSuccess: @Sendable (AuthSuccess) async throws -> AuthResponse

    /// Ends a successful sign-in: runs the app's `onSuccess` with the verified claims.
    ///
    /// - Parameters:
    ///   - claims: What the provider verified about the user (for a magic link: `email` and the extra
    ///     parameters of the link request).
    ///   - request: The request that completed the sign-in.
    /// - Returns: The app's response.
    public func success(claims: JSONObject, request: AuthRequest) async throws -> AuthResponse {
        // A `returnTo` the sign-in request carried (checked again: claims may come from anywhere).
        let returnTo = claims["returnTo"]?.stringValue.flatMap(configuration.redirectPolicy.allowed)
        return try await success(AuthSuccess(provider: provider, claims: claims, request: request, returnTo: returnTo))
    }

    /// Ends a successful OAuth / OpenID Connect sign-in: runs the app's `onSuccess` with the tokens and profile.
    func success(_ success: AuthSuccess) async throws -> AuthResponse {
        try await timed(.signIn) { () async throws -> AuthResponse in try await onSuccess(success) }
    }

    /// Runs one step, reporting its duration to the configuration's step observer when there is one.
    func timed<Result, Failure: Error>(_ step: FlowStep, _ body: () async throws(Failure) -> Result) async throws(Failure) -> Result {
        guard let observer = configuration.stepObserver else { return try await body() }
        let clock = ContinuousClock()
        let start = clock.now
        defer { observer(step, clock.now - start) }
        return try await body()
    }

    /// Runs another provider's step as if it were mounted here (for providers that delegate).
    public func delegating(to name: String) -> AuthContext {
        AuthContext(
            provider: name, authorizeURL: authorizeURL, callbackURL: callbackURL, configuration: configuration,
            keys: keys, flowKey: flowKey, flowReplay: flowReplay, logger: logger, onSuccess: onSuccess)
    }
}

/// A completed sign-in, as the app's `onSuccess` receives it.
public struct AuthSuccess: Sendable {
    /// The provider's name, for example `link` or `github`.
    public let provider: String
    /// What the provider verified about the user: for a magic link, `email` and the link request's extra
    /// parameters; for OpenID Connect, the ID token's claims; for OAuth 2.0, the user-info response.
    public let claims: JSONObject
    /// The request that completed the sign-in.
    public let request: AuthRequest
    /// The tokens an OAuth / OpenID Connect provider issued.
    public let tokens: TokenSet?
    /// The normalized profile (`id`, `email`, `emailVerified`, `name`, `image`) from an OAuth / OIDC provider.
    public let profile: Profile?
    /// The provider's raw profile (user-info response), if it was fetched.
    public let rawProfile: JSONObject?
    /// Where the user wanted to go (an allowed `returnTo` of the authorize request), if anywhere.
    public let returnTo: String?

    init(provider: String, claims: JSONObject, request: AuthRequest, tokens: TokenSet? = nil, profile: Profile? = nil, rawProfile: JSONObject? = nil, returnTo: String? = nil) {
        self.provider = provider
        self.claims = claims
        self.request = request
        self.tokens = tokens
        self.profile = profile
        self.rawProfile = rawProfile
        self.returnTo = returnTo
    }
}
