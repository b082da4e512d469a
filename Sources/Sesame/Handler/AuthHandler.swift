import HTTPTypes
import Logging
import Tracing

/// The auth routes of an app: SST's `AuthHandler`, framework-agnostic.
///
/// ```swift
/// let auth = AuthHandler(
///     providers: ["link": LinkProvider { link, claims in try await mailer.send(link, to: claims["email"]) }],
///     configuration: AuthConfiguration(baseURL: "https://app.example"),
///     keys: keys
/// ) { success in
///     let user = try await users.findOrCreate(email: success.claims["email"]?.stringValue)
///     return AuthResponse(try sessions.cookie(.user(userID: user.id, tenantID: nil), redirect: "https://app.example/"))
/// }
/// ```
///
/// Routes, under ``AuthConfiguration/prefix`` (default `/auth`):
/// - `GET /auth`: the providers and their authorize URLs, as JSON, or as a page for browsers;
/// - `/auth/{provider}/authorize` and `/auth/{provider}/callback`: the provider's two steps;
/// - `GET /auth/error?error=CODE`: the page failed browser flows land on.
///
/// Errors end here: browser navigations are redirected to the error URL with `?error=CODE`, API clients get
/// `{"error": CODE, "error_description": …}` with a 4xx status (429 with `Retry-After` when rate-limited).
/// Only a failure of the app's own code is a 500.
public struct AuthHandler: Sendable {
    /// The providers, by the name they are mounted under.
    public let providers: [String: any AuthProvider]
    /// The configuration.
    public let configuration: AuthConfiguration
    /// The keys providers sign their own tokens with (magic links, flow state).
    public let keys: KeySet
    private let onSuccess: @Sendable (AuthSuccess) async throws -> AuthResponse
    let logger: Logger
    /// The content-encryption keys of flow-state cookies, derived from ``keys`` (and following a ``KeyRing``'s).
    let flowKeys: KeyDerived<[JWK]>
    /// Where redeemed flow IDs are remembered.
    let flowReplay: any ReplayStore
    /// The app's sessions, for the Auth.js `session` and `signout` actions.
    let sessions: SessionAccess?
    /// The app's hooks.
    let callbacks: AuthCallbacks
    /// The Auth.js actions' double-submit CSRF tokens.
    let csrf: CSRFProtection
    /// How the built-in pages look, and which the app replaces; apps draw their own auth pages (second-factor
    /// setup, recovery codes) with it too.
    public let pages: AuthPages
    /// Ends every session of a user (a password reset does).
    let endSessions: (@Sendable (AuthUser) async throws -> Void)?
    /// Native apps' sign-in and tokens.
    let nativeApps: NativeAppAccess?

    /// Names that would collide with the handler's own routes: the actions' path segments.
    static let reservedNames = Set(AuthRoute.Action.allCases.map(\.rawValue)).union(["native", "webauthn-options"])

    /// Creates a handler.
    ///
    /// - Parameters:
    ///   - providers: The providers, by name (the name is the path segment).
    ///   - configuration: The base URL, prefix and error page.
    ///   - keys: Keys for the tokens providers issue to themselves; the session keys are a good choice, since
    ///     those tokens are typed and never accepted as sessions.
    ///   - replay: Where OAuth / OpenID Connect flows are redeemed once (default: in memory; with several app
    ///     processes, a shared store such as `RedisReplayStore` or `PostgresReplayStore`).
    ///   - sessions: The app's sessions, for the Auth.js actions `GET|POST /session` and `POST /signout`.
    ///   - callbacks: The `signIn`, `redirect` and `event` callbacks.
    ///   - pages: The built-in pages' theme, and the app's own pages that replace them.
    ///   - endSessions: Ends every session of a user: a ``PasswordProvider``'s reset calls it, and needs it.
    ///   - nativeApps: Native apps' sign-in through the browser, token and revocation endpoints
    ///     (``NativeAppSessions``); without it those routes answer 404.
    ///   - logger: Where flow errors and events are logged (never with tokens).
    ///   - onSuccess: The app's step: look the user up and return a response, typically
    ///     `AuthResponse(try await sessions.signIn(…, request: success.request.head, redirect: …))`.
    public init(
        providers: [String: any AuthProvider],
        configuration: AuthConfiguration,
        keys: KeySet,
        replay: any ReplayStore = MemoryReplayStore(),
        sessions: SessionAccess? = nil,
        callbacks: AuthCallbacks = AuthCallbacks(),
        pages: AuthPages = AuthPages(),
        endSessions: (@Sendable (AuthUser) async throws -> Void)? = nil,
        nativeApps: NativeAppAccess? = nil,
        logger: Logger = Logger(label: "sesame.auth"),
        onSuccess: @escaping @Sendable (AuthSuccess) async throws -> AuthResponse
    ) {
        precondition(providers.keys.allSatisfy { !AuthHandler.reservedNames.contains($0) && !$0.contains("/") && !$0.isEmpty },
                     "provider names must be single path segments and not one of \(AuthHandler.reservedNames.sorted())")
        for (name, provider) in providers {
            if let password = provider as? PasswordProvider {
                precondition(password.passwords.configuration.provider == name, "a PasswordProvider must be mounted under its PasswordAccounts' provider name")
                precondition(endSessions != nil, "a PasswordProvider needs endSessions: a password reset ends every session of the user")
            }
        }
        self.providers = providers
        self.configuration = configuration
        self.keys = keys
        self.logger = logger
        self.sessions = sessions
        self.callbacks = callbacks
        self.pages = pages
        self.endSessions = endSessions
        self.nativeApps = nativeApps
        self.csrf = CSRFProtection(keys: keys, cookie: SessionCookie(name: "sesame-csrf", baseURL: configuration.baseURL))
        let policy = configuration.redirectPolicy
        // The signIn callback and the signIn event wrap the app's onSuccess.
        self.onSuccess = { success in
            switch try await callbacks.signIn(success) {
            case .allow:
                let response = try await onSuccess(success)
                let event = AuthEvent(name: "signIn", provider: success.provider, subjectID: success.profile?.id)
                logger.info("Signed in", metadata: event.metadata)
                await callbacks.event(event)
                return response
            case .deny:
                throw AuthError.accessDenied.with(detail: "the signIn callback refused this sign-in")
            case .redirect(let target):
                guard let allowed = callbacks.redirect(target, policy) else { throw AuthError.accessDenied }
                return .redirect(to: allowed, status: .found)
            }
        }
        self.flowKeys = KeyDerived(from: keys) { FlowState.keys(from: $0) }
        self.flowReplay = replay
    }

    /// Answers a request under the prefix. Never throws: every failure becomes an error response.
    ///
    /// - Parameter request: The request, with its collected body.
    /// - Returns: The response.
    public func handle(_ request: AuthRequest) async -> AuthResponse {
        var request = request
        request.clientAddress = configuration.trustedProxies.clientAddress(peer: request.clientAddress, fields: request.head.headerFields)
        return await AuditRequest(request.head, clientAddress: request.clientAddress).run { await answer(request) }
    }

    private func answer(_ request: AuthRequest) async -> AuthResponse {
        do {
            return returningRedirect(try await route(request), for: request)
        } catch let error as AuthError {
            configuration.metrics.refusal(code: error.code, route: self.routeKind(of: request))
            // The path without its query (which may carry a link token or an authorization code), the stable code
            // and the description, which never holds a secret.
            logger.info("Auth request refused", metadata: [
                "path": .string(request.path), "error": .string(error.code), "detail": .string(error.detail ?? error.code),
            ])
            return errorResponse(error, for: request)
        } catch {
            logger.error("Sign-in failed in the app's code", metadata: ["error": .string(String(describing: type(of: error)))])
            configuration.metrics.refusal(code: AuthError.serverError.code, route: self.routeKind(of: request))
            return errorResponse(.serverError, for: request)
        }
    }

    private func route(_ request: AuthRequest) async throws -> AuthResponse {
        let route = try AuthRoute(path: request.path, prefix: configuration.prefix, isProvider: { providers[$0] != nil })
        let method = request.head.method
        switch route {
        case .index:
            guard method == .get || method == .head else { throw AuthError.methodNotAllowed }
            return index(for: request)
        case .action(let action):
            return try await self.action(action, request: request)
        case .signIn(let name):
            guard method == .post else { throw AuthError.methodNotAllowed }
            return try await startSignIn(name, request: request)
        case .step(let name, let step):
            let provider = providers[name]!
            try checkFormSubmission(to: provider, request)
            guard let result = try await provider.step(step, request: request, context: context(for: name, request: request)) else { throw AuthError.notFound }
            return Self.keepingTheURLPrivate(try await finish(result, provider: name, request: request))
        case .authorize(let name):
            guard method == .get || method == .post else { throw AuthError.methodNotAllowed }
            if method == .post { try checkOrigin(request) }
            return try await providers[name]!.authorize(request, context: context(for: name, request: request))
        case .callback(let name):
            guard method == .get || method == .post else { throw AuthError.methodNotAllowed }
            try checkFormSubmission(to: providers[name]!, request)
            return try await countingSignIn(provider: name) { Self.keepingTheURLPrivate(try await callback(name, request: request)) }
        case .native(let step):
            guard let nativeApps else { throw AuthError.notFound }
            // GET only: the code step mints a code, which no HEAD should.
            guard method == .get else { throw AuthError.methodNotAllowed }
            switch step {
            case "authorize": return try await nativeApps.authorize(request, nativeAppContext)
            case "complete": return Self.keepingTheURLPrivate(try await nativeApps.complete(request, nativeAppContext))
            default: throw AuthError.notFound
            }
        }
    }

    /// A provider's callback, to its end: the provider says who signed in (or answers itself); the `signIn`
    /// callback and the app's `onSuccess` run; the flow's cookies are cleared, signed in or failed.
    func callback(_ name: String, request: AuthRequest) async throws -> AuthResponse {
        let provider = providers[name]!
        let context = self.context(for: name, request: request)
        let clearing = provider.flowCookies(context: context).map { HTTPField(name: .setCookie, value: $0.clearCookie()) }
        do {
            var response = try await finish(try await provider.callback(request, context: context), provider: name, request: request)
            response.head.headerFields.append(contentsOf: clearing)
            return response
        } catch let error as AuthError {
            var error = error
            error.responseFields.append(contentsOf: clearing)
            throw error
        }
    }

    /// A callback's response, with the callback URL (which carries a secret: a link token, an authorization code)
    /// kept out of `Referer`: `no-referrer`, except for an HTML page, whose own forms must post back with a real
    /// `Origin` (browsers send `Origin: null` from a `no-referrer` page), which gets `strict-origin`: requests from
    /// it carry the origin alone, never the URL with its secret (not even to this site's access logs).
    static func keepingTheURLPrivate(_ response: AuthResponse) -> AuthResponse {
        var response = response
        let isPage = response.head.headerFields[.contentType]?.hasPrefix("text/html") == true
        response.head.headerFields[.referrerPolicy] = isPage ? "strict-origin" : "no-referrer"
        return response
    }

    /// A provider's result, to its end: its own response, or the `signIn` callback and the app's `onSuccess` for
    /// who signed in.
    private func finish(_ result: ProviderResult, provider name: String, request: AuthRequest) async throws -> AuthResponse {
        switch result {
        case .respond(let response):
            return response
        case .signedIn(let identity):
            // A `returnTo` the flow or the claims carried, checked again: claims may come from anywhere.
            let returnTo = (identity.returnTo ?? identity.claims["returnTo"]?.stringValue).flatMap(configuration.redirectPolicy.allowed)
            let success = AuthSuccess(provider: name, identity: identity, request: request, returnTo: returnTo)
            var response = try await context(for: name, request: request).timed(.signIn) { () async throws -> AuthResponse in try await onSuccess(success) }
            response.head.headerFields.append(contentsOf: identity.responseFields)
            configuration.metrics.signIn(provider: name, succeeded: true)
            let signedIn = AuditRequest.current?.signedIn
            await configuration.audit.record(.signIn, userID: signedIn?.userID, subjectID: signedIn?.subjectID, sessionID: signedIn?.sessionID, provider: name)
            return response
        }
    }

    /// Runs a provider's callback, counting a refusal as a failed sign-in. A success is counted where the app's
    /// `onSuccess` answered, whichever route got there (a callback, or a step such as a second factor's); a step's
    /// refusal (a wrong second-factor code, a sign-up form) is counted among the refusals by its code only.
    func countingSignIn(provider name: String, _ body: () async throws -> AuthResponse) async throws -> AuthResponse {
        guard let tracer = configuration.tracer else { return try await counted(provider: name, body) }
        // The callback's span: the steps and the provider's HTTP calls beneath it.
        return try await tracer.withSpan("sesame.sign_in", ofKind: .internal) { span in
            span.attributes["sesame.provider"] = name
            do {
                return try await counted(provider: name, body)
            } catch let refusal as AuthError {
                span.attributes["sesame.error"] = refusal.code
                throw refusal
            }
        }
    }

    private func counted(provider name: String, _ body: () async throws -> AuthResponse) async throws -> AuthResponse {
        do {
            return try await body()
        } catch {
            configuration.metrics.signIn(provider: name, succeeded: false)
            let code = (error as? AuthError)?.code ?? AuthError.serverError.code
            await configuration.audit.record(.signInFailed, userID: AuditRequest.current?.signedIn.userID, provider: name, detail: code)
            throw error
        }
    }

    /// The kind of route a request is for, as the rate-limit metric's `route` label: a fixed name, never the path.
    private func routeKind(of request: AuthRequest) -> String? {
        switch try? AuthRoute(path: request.path, prefix: configuration.prefix, isProvider: { providers[$0] != nil }) {
        case .index: "index"
        case .action: "action"
        case .signIn: "signin"
        case .step: "step"
        case .authorize: "authorize"
        case .callback: "callback"
        case .native: "native"
        case nil: nil
        }
    }

    /// Refuses state-changing requests from other origins.
    func checkOrigin(_ request: AuthRequest) throws {
        guard configuration.originPolicy.allows(request.head) else { throw AuthError.forbiddenOrigin }
    }

    /// What the native-app routes need: the sign-in page comes back to their code step.
    var nativeAppContext: NativeAppContext {
        // A path: apps' sign-in callbacks (and the default redirect policy) keep local paths.
        let complete = configuration.prefix + "/native/complete"
        let signIn = URLEncodedForm.appending(name: "callbackUrl", value: complete, to: pages.signInURL ?? configuration.url("/signin"))
        return NativeAppContext(configuration: configuration, signInURL: signIn)
    }

    func context(for name: String, request: AuthRequest) -> AuthContext {
        AuthContext(
            provider: name,
            authorizeURL: configuration.url("/\(name)/authorize"),
            callbackURL: configuration.url("/\(name)/callback"),
            configuration: configuration,
            keys: keys,
            pages: pages,
            flowKeys: flowKeys.value,
            flowReplay: flowReplay,
            logger: logger,
            csrf: csrf,
            endSessions: endSessions)
    }

    // MARK: Index

    private func index(for request: AuthRequest) -> AuthResponse {
        let names = providers.keys.sorted()
        if request.isBrowserNavigation {
            var items = ""
            for name in names {
                let provider = providers[name]!
                items += "<li><a href=\"\(HTML.escape(configuration.url("/\(name)/authorize")))\">\(HTML.escape(provider.displayName))</a> <small>(\(HTML.escape(provider.type)))</small></li>"
            }
            return pages.render(title: pages.signInTitle, body: "<ul>\(items)</ul>")
        }
        var object = JSONObject()
        for name in names {
            let provider = providers[name]!
            object[name] = [
                "type": .string(provider.type),
                "name": .string(provider.displayName),
                "authorize": .string(configuration.url("/\(name)/authorize")),
                "callback": .string(configuration.url("/\(name)/callback")),
            ]
        }
        return .json(["providers": .object(object)])
    }

    // MARK: Errors

    /// The one place flow errors are answered.
    func errorResponse(_ error: AuthError, for request: AuthRequest) -> AuthResponse {
        var response: AuthResponse
        if request.head.headerFields[.xAuthReturnRedirect] == "1", !request.isBrowserNavigation {
            // next-auth's client reads the error from the URL it is given (`?error=`), with the status beside it.
            let target = configuration.absolute(URLEncodedForm.appending(name: "error", value: error.code, to: configuration.errorURL ?? configuration.url("/error")))
            response = .json(["url": .string(target), "error": .string(error.code), "error_description": .string(error.detail ?? error.code), "message": .string(error.message)], status: error.status)
        } else if error.status == .tooManyRequests {
            // Rate limits answer with their status everywhere, so that clients can honour Retry-After.
            response = request.isBrowserNavigation
                ? pages.error(code: error.code, configuration: configuration, status: error.status)
                : .json(["error": .string(error.code), "error_description": .string(error.detail ?? error.code), "message": .string(error.message)], status: error.status)
        } else if request.isBrowserNavigation {
            let target = configuration.errorURL ?? configuration.prefix + "/error"
            response = .redirect(to: URLEncodedForm.appending(name: "error", value: error.code, to: target))
        } else {
            response = .json(["error": .string(error.code), "error_description": .string(error.detail ?? error.code), "message": .string(error.message)], status: error.status)
        }
        if let retryAfter = error.retryAfter { response.head.headerFields[.retryAfter] = String(retryAfter) }
        for field in error.responseFields { response.head.headerFields.append(field) }
        return response
    }
}

