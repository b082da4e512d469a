import HTTPTypes

/// A request's session handling, start to end, once for every framework: resolve the session, refuse the request
/// or let it proceed with the session current, then add what the handler's changes need.
///
/// ```text
/// start(request)  → .refuse(response)                     the integration answers with it
///                 → .proceed(scope)                       the integration runs the handler in scope.run { … }
/// finish(scope)   → .add(fields) / .replace(response)     after the handler: cookies to set, or 503 if unsaved
/// ```
///
/// Each step answers ``Eventual/now(_:)`` when nothing must be waited for (stateless tokens with an in-memory
/// revocation list, a read-only request on a store-backed session), so an integration on event-loop futures goes on
/// without starting a task. The integrations (SesameHummingbird, SesameVapor) translate their framework's request and
/// response and hold no flow logic of their own.
///
/// What is refused, in order:
/// 1. A state-changing request authenticated by the session cookie that comes from another site
///    (``CrossSiteProtection``): `403` `cross_site_request`.
/// 2. With a ``SessionRequirement``, a request without a (qualifying) session: a sign-in redirect for browser
///    navigations, `401` for API calls, `403` for a session of the wrong kind, `503` when the store is down.
public struct SessionFlow<Strategy: SessionStrategy>: Sendable {
    /// The app's session kinds.
    public typealias Subject = Strategy.Subject

    /// The session strategy: ``SessionTokens`` or ``StoredSessions``.
    public let sessions: Strategy
    /// What the routes behind the flow require, if anything.
    public let requirement: SessionRequirement<Subject>?
    /// The refusal of cross-site state changes.
    public let crossSite: CrossSiteProtection

    /// Creates a flow.
    ///
    /// - Parameters:
    ///   - sessions: The session strategy.
    ///   - requirement: A requirement to enforce (default: none, the session is optional).
    ///   - crossSite: Which cookie-authenticated state changes to refuse (default: those from other sites).
    public init(sessions: Strategy, requirement: SessionRequirement<Subject>? = nil, crossSite: CrossSiteProtection = CrossSiteProtection()) {
        self.sessions = sessions
        self.requirement = requirement
        self.crossSite = crossSite
    }

    /// Starts a request: resolves its session and decides whether it may proceed.
    ///
    /// - Parameter request: The request (or a view of the framework's request).
    /// - Returns: The refusal, or the scope to run the handler in; now, unless a store must be asked.
    @inlinable
    public func start<Request: SessionFlowRequest>(_ request: Request) -> Eventual<SessionFlowStart<Subject>> {
        switch sessions.resolve(request.sessionCredentials) {
        case .now(let resolution): return .now(decide(request, resolution))
        case .later(let resolving): return .later { decide(request, await resolving()) }
        }
    }

    /// Refusal or scope for a resolved request.
    @inlinable
    func decide<Request: SessionFlowRequest>(_ request: Request, _ resolution: SessionResolution<Subject>) -> SessionFlowStart<Subject> {
        if resolution.isCookieAuthenticated, let refusal = crossSite.refusal(for: request) { return .refuse(refusal) }
        if let requirement, let refusal = requirement.refusal(for: request, resolution: resolution) { return .refuse(refusal) }
        return .proceed(SessionScope(resolution))
    }

    /// Finishes a request after its handler ran: saves what it changed, and says what the response needs.
    ///
    /// - Parameter scope: The scope ``start(_:)`` let the request proceed with.
    /// - Returns: Header fields to add (a cleared or new cookie), or a `503` to answer instead when the changes
    ///   could not be saved; now, when there is nothing to save.
    @inlinable
    public func finish(_ scope: SessionScope<Subject>) -> Eventual<SessionFlowEnd> {
        let fields = scope.resolution.responseFields
        switch sessions.commit(scope.resolution) {
        case .now(let saved): return .now(SessionFlowEnd(fields, saved))
        case .later(let saving): return .later { SessionFlowEnd(fields, await saving()) }
        }
    }
}

/// How a request starts: refused, or proceeding with its session.
public enum SessionFlowStart<Subject: SessionSubject>: Sendable {
    /// Answer with this response; the handler does not run.
    case refuse(AuthResponse)
    /// Run the handler in this scope, then call ``SessionFlow/finish(_:)`` (unless ``SessionScope/needsFinish`` is
    /// `false`).
    case proceed(SessionScope<Subject>)
}

/// What the response needs once the handler ran.
public enum SessionFlowEnd: Sendable {
    /// Add these header fields to the handler's response.
    case add([HTTPField])
    /// Answer with this response instead (the handler's changes could not be saved: `503`).
    case replace(AuthResponse)

    @inlinable
    init(_ fields: [HTTPField], _ saved: Result<[HTTPField], AuthError>) {
        switch saved {
        case .success(let more): self = .add(more.isEmpty ? fields : fields + more)
        case .failure(let error): self = .replace(error.jsonResponse)
        }
    }
}

extension SessionScope {
    /// Whether ``SessionFlow/finish(_:)`` can have anything to do: `false` for a stateless session with no cookie to
    /// clear, whose response the integration passes on as it is.
    @inlinable
    public var needsFinish: Bool {
        resolution.state != nil || !resolution.responseFields.isEmpty
    }
}
