import HTTPTypes
import Logging
import Tracing

/// A way to sign in: SST's adapter.
///
/// A provider answers two steps under ``AuthHandler``'s prefix, `/{name}/authorize` and `/{name}/callback`. Its
/// callback verifies what came back and returns a ``ProviderResult``: who signed in (``ProviderResult/signedIn(_:)``),
/// or a page of its own. It never calls back into the handler: the handler runs the `signIn` callback and the app's
/// `onSuccess`, clears the provider's ``flowCookies(context:)`` and answers every error, in one place. Errors are
/// thrown as ``AuthError``.
public protocol AuthProvider: Sendable {
    /// The kind of provider, for example `link`, `oauth` or `oidc`.
    var type: String { get }
    /// A name for people, for example `Email link` or `GitHub`.
    var displayName: String { get }

    /// Starts a sign-in: sends a link, redirects to an identity provider, …
    ///
    /// - Parameters:
    ///   - request: The request to `/{name}/authorize`.
    ///   - context: The provider's name, URLs and keys.
    /// - Returns: The response to send.
    /// - Throws: ``AuthError`` for bad input; anything else is a server error.
    func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse

    /// Finishes a sign-in: checks what the browser brought back.
    ///
    /// - Parameters:
    ///   - request: The request to `/{name}/callback`.
    ///   - context: The provider's name, URLs and keys.
    /// - Returns: Who signed in, or a response of the provider's own (a confirmation page).
    /// - Throws: ``AuthError`` for bad input; anything else is a server error.
    func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult

    /// The cookies the provider's flow keeps in the browser between its steps (OAuth's flow state, a link's
    /// browser binding): the handler clears them when a callback ends, signed in or failed.
    ///
    /// - Parameter context: The provider's name and the handler's configuration.
    /// - Returns: The cookies (default none).
    func flowCookies(context: AuthContext) -> [SessionCookie]

    /// Answers a further step of the provider's own under `/{name}/{step}` (a password provider's sign-up and
    /// reset, for example), as a callback does: who signed in, or a response.
    ///
    /// - Parameters:
    ///   - step: The path segment after the provider's name (never `authorize` or `callback`).
    ///   - request: The request.
    ///   - context: The provider's name, URLs and keys.
    /// - Returns: The result, or `nil` when the provider has no such step (the handler answers 404).
    /// - Throws: ``AuthError`` for bad input; anything else is a server error.
    func step(_ step: String, request: AuthRequest, context: AuthContext) async throws -> ProviderResult?

    /// Whether the provider's `POST`s are forms of this site that the user fills in (a password, a code), rather
    /// than an identity provider's answer: the handler then requires the CSRF token (`csrfToken`) and a
    /// same-origin request for each, and `POST /signin/{name}` goes straight to the callback (default `false`).
    var submitsForms: Bool { get }
}

extension AuthProvider {
    /// No flow cookies.
    public func flowCookies(context: AuthContext) -> [SessionCookie] { [] }
    /// No further steps.
    public func step(_ step: String, request: AuthRequest, context: AuthContext) async throws -> ProviderResult? { nil }
    /// Callbacks are identity providers' answers.
    public var submitsForms: Bool { false }
}

/// How a provider's callback ends.
public enum ProviderResult: Sendable {
    /// The provider verified who is signing in; the handler goes on with the sign-in.
    case signedIn(ProviderIdentity)
    /// The provider answers itself and nobody signs in yet (a link opened in another browser asks to confirm).
    case respond(AuthResponse)
}

/// Who a provider verified: the claims, and for OAuth / OpenID Connect the tokens and profile.
public struct ProviderIdentity: Sendable {
    /// What the provider verified about the user: for a magic link, `email` and the link request's extra
    /// parameters; for OpenID Connect, the ID token's claims; for OAuth 2.0, the user-info response.
    public var claims: JSONObject
    /// The tokens an OAuth / OpenID Connect provider issued.
    public var tokens: TokenSet?
    /// The normalized profile (`id`, `email`, `emailVerified`, `name`, `image`).
    public var profile: Profile?
    /// The provider's raw profile (user-info response), if it was fetched.
    public var rawProfile: JSONObject?
    /// Where the user wanted to go, if the flow carried it (else the claims' `returnTo`); the handler keeps it only
    /// when the redirect policy allows it.
    public var returnTo: String?
    /// Header fields the sign-in's response must carry besides the session's (a provider's step clearing its own
    /// cookie).
    var responseFields: [HTTPField] = []
    /// A verified passkey-first sign-up, which ``Accounts/signIn(provider:type:identity:signedInUserID:)`` writes once
    /// the handler's `signIn` callback allowed it.
    var passkeySignUp: Passkeys.SignUp?

    /// Creates an identity.
    ///
    /// - Parameters:
    ///   - claims: What the provider verified.
    ///   - tokens: The provider's tokens, if any.
    ///   - profile: The normalized profile, if any.
    ///   - rawProfile: The raw profile, if any.
    ///   - returnTo: Where the user wanted to go, if the flow carried it.
    public init(claims: JSONObject, tokens: TokenSet? = nil, profile: Profile? = nil, rawProfile: JSONObject? = nil, returnTo: String? = nil) {
        self.claims = claims
        self.tokens = tokens
        self.profile = profile
        self.rawProfile = rawProfile
        self.returnTo = returnTo
    }
}

extension ProviderIdentity {
    /// A user the provider checked itself (a password, a passkey): their profile, with how they signed in (`amr`,
    /// RFC 8176) and where they were headed.
    init(user: AuthUser, methods: [String], returnTo: String?) {
        var claims: JSONObject = ["amr": .array(methods.map(JSONValue.string))]
        if let email = user.email { claims["email"] = .string(email) }
        if let returnTo { claims["returnTo"] = .string(returnTo) }
        self.init(
            claims: claims, profile: Profile(id: user.id, email: user.email, emailVerified: user.emailVerified != nil, name: user.name, image: user.image),
            returnTo: returnTo)
    }
}

/// A provider built from two closures: custom adapters, for example one that picks a tenant's identity
/// provider by a query parameter and delegates to it.
public struct CustomProvider: AuthProvider {
    public let type: String
    public let displayName: String
    private let authorizeStep: @Sendable (AuthRequest, AuthContext) async throws -> AuthResponse
    private let callbackStep: @Sendable (AuthRequest, AuthContext) async throws -> ProviderResult

    /// Creates a provider from its two steps.
    ///
    /// - Parameters:
    ///   - type: The kind of provider (default `custom`).
    ///   - displayName: A name for people.
    ///   - authorize: The authorize step.
    ///   - callback: The callback step: who signed in, or a response.
    public init(
        type: String = "custom",
        displayName: String,
        authorize: @escaping @Sendable (AuthRequest, AuthContext) async throws -> AuthResponse,
        callback: @escaping @Sendable (AuthRequest, AuthContext) async throws -> ProviderResult
    ) {
        self.type = type
        self.displayName = displayName
        self.authorizeStep = authorize
        self.callbackStep = callback
    }

    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        try await authorizeStep(request, context)
    }

    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
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
    /// The renderer of every page: a provider's own pages use it too, so they look like the rest.
    public let pages: AuthPages
    /// The content-encryption keys for flow-state cookies (derived from ``keys``): the first seals, all of them open,
    /// so that a sign-in in progress survives a key rotation.
    let flowKeys: [JWK]
    /// Where single-use flow IDs are redeemed.
    let flowReplay: any ReplayStore
    /// The request's logger.
    public let logger: Logger
    /// The double-submit CSRF tokens the handler checks, for a provider's own forms.
    public let csrf: CSRFProtection
    /// Ends every session of a user (a password reset), when the handler keeps users (`nil` otherwise).
    public let endSessions: (@Sendable (AuthUser) async throws -> Void)?

    /// Work whose outcome must not show in the answer (a lookup that would tell known addresses from unknown ones, a
    /// delivery): in the background, a moment after the response, or else before it; a failure is logged, never shown.
    ///
    /// - Parameters:
    ///   - inBackground: Whether the work runs after the response.
    ///   - failure: What the log says when the work fails.
    ///   - work: The work.
    func afterAnswering(inBackground: Bool, failure: Logger.Message, _ work: @escaping @Sendable () async throws -> Void) async {
        let logger = logger
        let guarded: @Sendable () async -> Void = {
            do {
                try await work()
            } catch {
                logger.error(failure, metadata: ["error": .string(String(describing: Swift.type(of: error)))])
            }
        }
        guard inBackground else { return await guarded() }
        // A moment later, so that the work runs once the answer is on its way rather than beside it (where it would
        // slow the answer for known addresses alone).
        Task {
            try? await Task.sleep(for: .milliseconds(20))
            await guarded()
        }
    }

    /// Counts a refusal the provider answers itself (a browser's form sent back with `?error=CODE`) by its code, as
    /// the handler counts the refusals it answers.
    func countRefusal(_ error: AuthError) {
        configuration.metrics.refusal(code: error.code, route: nil)
    }

    /// Counts and records a failed sign-in with this provider that the handler does not see fail: one the provider
    /// answers itself, or a refused second factor.
    ///
    /// - Parameters:
    ///   - error: The refusal.
    ///   - userID: The user whose sign-in failed, when known (a wrong password or second factor for an account).
    func countFailedSignIn(_ error: AuthError, userID: String? = nil) async {
        configuration.metrics.signIn(provider: provider, succeeded: false)
        await configuration.audit.record(.signInFailed, userID: userID ?? AuditRequest.current?.signedIn.userID, provider: provider, detail: error.code)
    }

    /// Runs one step, reporting its duration to the configuration's step observer when there is one, in a span of
    /// its own (`sesame.step.` and the step's name) when the configuration has a tracer.
    func timed<Value, Failure: Error>(_ step: FlowStep, _ body: () async throws(Failure) -> Value) async throws(Failure) -> Value {
        guard let tracer = configuration.tracer else { return try await observed(step, body) }
        let span = tracer.startSpan("sesame.step." + step.description, ofKind: .internal)
        span.attributes["sesame.provider"] = provider
        defer { span.end() }
        // The step's own calls (the provider HTTP client's spans) become the span's children.
        let outcome: Result<Value, Failure> = await InstrumentationContext.$current.withValue(span.context) {
            do throws(Failure) { return .success(try await observed(step, body)) } catch { return .failure(error) }
        }
        switch outcome {
        case .success(let value):
            return value
        case .failure(let error):
            if let refusal = error as? AuthError { span.attributes["sesame.error"] = refusal.code }
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    private func observed<Value, Failure: Error>(_ step: FlowStep, _ body: () async throws(Failure) -> Value) async throws(Failure) -> Value {
        guard let observer = configuration.stepObserver else { return try await body() }
        let clock = ContinuousClock()
        let start = clock.now
        defer { observer(step, clock.now - start) }
        return try await body()
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
    /// A passkey-first sign-up to write (see ``ProviderIdentity``).
    let passkeySignUp: Passkeys.SignUp?

    init(provider: String, identity: ProviderIdentity, request: AuthRequest, returnTo: String?) {
        self.provider = provider
        self.claims = identity.claims
        self.request = request
        self.tokens = identity.tokens
        self.profile = identity.profile
        self.rawProfile = identity.rawProfile
        self.returnTo = returnTo
        self.passkeySignUp = identity.passkeySignUp
    }
}
