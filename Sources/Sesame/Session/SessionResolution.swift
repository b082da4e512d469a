import HTTPTypes

/// What a request's credentials amount to: a session, none, or a rejected token, and what the response must do.
public struct SessionResolution<Subject: SessionSubject>: Sendable {
    /// Creates a resolution.
    public init(session: Session<Subject>?, failure: TokenError?, responseFields: [HTTPField]) {
        self.session = session
        self.failure = failure
        self.responseFields = responseFields
        self.state = nil
    }

    init(session: Session<Subject>?, failure: TokenError?, responseFields: [HTTPField], state: (any AnyObject & Sendable)?) {
        self.session = session
        self.failure = failure
        self.responseFields = responseFields
        self.state = state
    }

    /// The verified session, if the request carries a valid one.
    public let session: Session<Subject>?
    /// Why the token the request carried was rejected, if it was.
    public let failure: TokenError?
    /// `Set-Cookie` fields the response must carry: a rejected session cookie is cleared.
    public let responseFields: [HTTPField]
    /// The strategy's per-request state (a store-backed session's data and change tracking), if any.
    @usableFromInline let state: (any AnyObject & Sendable)?

    /// Whether the session could not be checked because a store is down (requests that need it get 503).
    public var isUnavailable: Bool { failure == .revocationUnavailable || failure == .sessionStoreUnavailable }
}

extension SessionTokens {
    /// Resolves a request's session from its `Bearer` token or session cookie, never throwing.
    ///
    /// A malformed, forged, expired or revoked token means "no session"; when it came from the cookie, the
    /// resolution asks the response to clear the cookie. A revocation store that cannot answer means no
    /// session either, flagged as ``SessionResolution/isUnavailable`` so guards answer 503 rather than 401.
    ///
    /// - Parameter request: The request.
    /// - Returns: The resolution.
    @inlinable
    public func resolve(_ request: HTTPRequest) async -> SessionResolution<Subject> {
        let bearer = request.headerFields[.authorization].flatMap(SessionTokens.bearerToken)
        guard let token = bearer ?? cookieToken(from: request) else {
            return SessionResolution(session: nil, failure: nil, responseFields: [])
        }
        do {
            return SessionResolution(session: try await verify(token), failure: nil, responseFields: [])
        } catch {
            return rejection(error, fromCookie: bearer == nil)
        }
    }

    /// Resolves a request's session as ``resolve(_:)`` does, from its credentials alone, but only when no
    /// store must be waited for: with no revocation store, or one that answers from memory.
    ///
    /// - Parameter credentials: The request's `Authorization` and `Cookie` fields.
    /// - Returns: The resolution, or `nil` when only ``resolve(_:)`` can tell.
    @inlinable
    public func resolveWithoutWaiting(_ credentials: SessionCredentials) -> SessionResolution<Subject>? {
        let bearer = credentials.authorization.flatMap(SessionTokens.bearerToken)
        guard let token = bearer ?? cookieToken(in: credentials.cookies) else {
            return SessionResolution(session: nil, failure: nil, responseFields: [])
        }
        do {
            guard let session = try verifyWithoutWaiting(token) else { return nil }
            return SessionResolution(session: session, failure: nil, responseFields: [])
        } catch {
            return rejection(error, fromCookie: bearer == nil)
        }
    }

    /// The resolution of a rejected token: no session, and a rejected cookie is cleared (unless the revocation
    /// store was only unreachable).
    @usableFromInline
    func rejection(_ error: TokenError, fromCookie: Bool) -> SessionResolution<Subject> {
        let clear = fromCookie && error != .revocationUnavailable
        let fields = clear
            ? [HTTPField(name: .setCookie, value: configuration.cookie.clearCookie())]
            : []
        return SessionResolution(session: nil, failure: error, responseFields: fields)
    }
}
