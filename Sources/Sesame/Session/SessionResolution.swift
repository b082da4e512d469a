import HTTPTypes

/// What a request's credentials amount to: a session, none, or a rejected token, and what the response must do.
public struct SessionResolution<Subject: SessionSubject>: Sendable {
    /// Creates a resolution.
    ///
    /// - Parameters:
    ///   - session: The verified session, if any.
    ///   - failure: Why the credential was rejected, if it was.
    ///   - responseFields: `Set-Cookie` fields the response must carry.
    ///   - isCookieAuthenticated: Whether the session cookie (not a `Bearer` token) authenticated the request.
    public init(session: AuthSession<Subject>?, failure: TokenError? = nil, responseFields: [HTTPField] = [], isCookieAuthenticated: Bool = false) {
        self.init(session: session, failure: failure, responseFields: responseFields, isCookieAuthenticated: isCookieAuthenticated, state: nil)
    }

    @usableFromInline
    init(session: AuthSession<Subject>?, failure: TokenError?, responseFields: [HTTPField], isCookieAuthenticated: Bool, state: SessionScopeState?) {
        self.session = session
        self.failure = failure
        self.responseFields = responseFields
        self.isCookieAuthenticated = isCookieAuthenticated
        self.state = state
    }

    /// The verified session, if the request carries a valid one.
    public let session: AuthSession<Subject>?
    /// Why the token the request carried was rejected, if it was.
    public let failure: TokenError?
    /// `Set-Cookie` fields the response must carry: a rejected session cookie is cleared.
    public let responseFields: [HTTPField]
    /// Whether the request's session (or a store-backed anonymous session with data) came from the session
    /// cookie, which a browser attaches by itself: then a state-changing request must prove it comes from this
    /// site (see ``CrossSiteProtection``). `false` for a `Bearer` token and for no session.
    public let isCookieAuthenticated: Bool
    /// The strategy's per-request state (a store-backed session's data and change tracking), if any.
    @usableFromInline let state: SessionScopeState?

    /// Whether the session could not be checked because a store is down (requests that need it get 503).
    public var isUnavailable: Bool { failure == .revocationUnavailable || failure == .sessionStoreUnavailable }

    /// No session: the request carried no credential.
    @inlinable
    public static var none: SessionResolution { SessionResolution(session: nil) }
}

/// Per-request state a strategy keeps beside the session (a store-backed session's data and what the handler
/// changed), tagged with the strategy instance that made it: only that strategy's typed accessors reach it.
@usableFromInline
class SessionScopeState: @unchecked Sendable {
    /// The strategy that made the state (compared by identity).
    let owner: AnyObject

    init(owner: AnyObject) {
        self.owner = owner
    }
}
