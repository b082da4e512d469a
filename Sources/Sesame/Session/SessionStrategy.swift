import HTTPTypes

/// Where sessions live: in self-contained tokens (``SessionTokens``) or in a store (``StoredSessions``).
///
/// Both serve the same middleware, the same `Session.current` and the same sign-in flows, so an app switches
/// strategy by changing the one line that creates its sessions.
public protocol SessionStrategy<Subject>: Sendable {
    /// The app's session kinds.
    associatedtype Subject: SessionSubject

    /// Resolves a request's session at the start of the request, never throwing: a bad credential is "no
    /// session" (and a bad cookie is cleared), a store that cannot answer is flagged as unavailable.
    ///
    /// - Parameter request: The request.
    /// - Returns: The resolution, which the integration makes current for the request's handler.
    func resolve(_ request: HTTPRequest) async -> SessionResolution<Subject>

    /// Resolves a request's session as ``resolve(_:)`` does, from the request's credentials alone, when that
    /// needs no waiting (no store to ask), or returns `nil`. Integrations built on futures (Vapor) use it to
    /// skip starting a task, and converting the request, per request.
    ///
    /// - Parameter credentials: The request's `Authorization` and `Cookie` fields.
    /// - Returns: The resolution, or `nil` when only ``resolve(_:)`` can tell (the default).
    func resolveWithoutWaiting(_ credentials: SessionCredentials) -> SessionResolution<Subject>?

    /// Saves what the handler changed, after it ran.
    ///
    /// - Parameter resolution: The resolution ``resolve(_:)`` returned for this request.
    /// - Returns: Header fields the response must carry (a new or refreshed session cookie).
    /// - Throws: ``AuthError/unavailable`` when the store cannot save; the integration answers 503 instead.
    func commit(_ resolution: SessionResolution<Subject>) async throws(AuthError) -> [HTTPField]

    /// The header fields ``commit(_:)`` would return, when saving needs no waiting, or `nil`.
    ///
    /// - Parameter resolution: The resolution for this request.
    /// - Returns: The fields, or `nil` when only ``commit(_:)`` can save (the default).
    func commitWithoutWaiting(_ resolution: SessionResolution<Subject>) -> [HTTPField]?

    /// Whether ``commit(_:)`` never saves anything or adds fields (stateless tokens): then an integration can
    /// hand the handler's response on as it is, without waiting to commit.
    var commitsNothing: Bool { get }

    /// Signs a subject in: a new session (with a new ID, replacing any the request carried) and a redirect
    /// that sets its cookie.
    ///
    /// - Parameters:
    ///   - subject: Whom the session is about.
    ///   - request: The request that completed the sign-in (its pre-authentication session is ended).
    ///   - redirect: Where to send the browser.
    /// - Returns: The redirect with its `Set-Cookie`.
    func signIn(_ subject: Subject, request: HTTPRequest?, redirect: String) async throws -> HTTPResponse

    /// Signs the request's session out: it ends (revoked or deleted) and its cookie is cleared.
    ///
    /// - Parameters:
    ///   - request: The request carrying the session.
    ///   - redirect: Where to send the browser.
    /// - Returns: The redirect (303) clearing the cookie.
    func signOut(_ request: HTTPRequest, redirect: String) async throws -> HTTPResponse
}

extension SessionStrategy {
    /// `nil`: the strategy resolves with ``resolve(_:)`` only.
    public func resolveWithoutWaiting(_ credentials: SessionCredentials) -> SessionResolution<Subject>? { nil }

    /// `false`: the strategy may have something to save after the handler.
    public var commitsNothing: Bool { false }

    /// `nil`: the strategy saves with ``commit(_:)`` only.
    public func commitWithoutWaiting(_ resolution: SessionResolution<Subject>) -> [HTTPField]? { nil }
}

extension SessionTokens: SessionStrategy {
    /// Stateless sessions have nothing to save.
    @inlinable
    public func commit(_ resolution: SessionResolution<Subject>) async throws(AuthError) -> [HTTPField] { [] }

    /// Stateless sessions have nothing to save, at once.
    @inlinable
    public func commitWithoutWaiting(_ resolution: SessionResolution<Subject>) -> [HTTPField]? { [] }

    /// `true`: stateless sessions never have anything to save.
    @inlinable
    public var commitsNothing: Bool { true }

    /// Issues a session token in the cookie (see ``cookie(_:redirect:)``); a token is new on every sign-in, and
    /// the valid tokens the request carried (cookie or `Bearer`) are revoked first, so a re-sign-in or an
    /// Auth.js `update` leaves no second live token behind.
    ///
    /// - Throws: ``AuthError/revocationUnavailable`` (503) when a token the request carried cannot be revoked.
    public func signIn(_ subject: Subject, request: HTTPRequest?, redirect: String) async throws -> HTTPResponse {
        if let request { try await revokeCarriedTokens(of: request) }
        return try cookie(subject, redirect: redirect, replacing: request)
    }

    /// Revokes the request's session when it has one and clears the cookie. With a revocation store, sign-out
    /// never claims success for a token that stays valid: when the revocation cannot be recorded (or the
    /// token's status cannot be checked), it throws and the cookie is kept. Without a revocation store
    /// (`revocations: nil`), the app has chosen tokens that live until they expire, and only the cookie is
    /// cleared.
    ///
    /// - Throws: ``AuthError/revocationUnavailable`` (503) when the revocation cannot be recorded.
    public func signOut(_ request: HTTPRequest, redirect: String) async throws -> HTTPResponse {
        try await revokeCarriedTokens(of: request)
        var response = clearCookie(redirect: redirect)
        response.status = .seeOther
        // A token that was split into chunks leaves with all of them.
        for value in ChunkedCookie(cookie: configuration.cookie).clearingChunks(in: request) {
            response.headerFields.append(HTTPField(name: .setCookie, value: value))
        }
        return response
    }

    /// Revokes each valid token the request carries, in its cookie and its `Authorization` field. A token that
    /// is invalid, expired or already revoked needs nothing; one whose status cannot be checked, or whose
    /// revocation cannot be recorded, fails closed.
    func revokeCarriedTokens(of request: HTTPRequest) async throws(AuthError) {
        guard revocations != nil else { return }
        let bearer = request.headerFields[.authorization].flatMap(SessionTokens.bearerToken)
        for token in Set([bearer, cookieToken(from: request)].compactMap { $0.map(String.init) }) {
            do {
                let session = try await verify(token)
                try await revoke(session)
            } catch where error == .revocationUnavailable {
                throw AuthError.revocationUnavailable
            } catch {
                continue
            }
        }
    }
}
