import HTTPTypes

/// Where sessions live: in self-contained tokens (``SessionTokens``) or in a store (``StoredSessions``).
///
/// Both serve the same middleware, the same `AuthSession.current` and the same sign-in flows, so an app switches
/// strategy by changing the one line that creates its sessions.
public protocol SessionStrategy<Subject>: Sendable {
    /// The app's session kinds.
    associatedtype Subject: SessionSubject

    /// Resolves a request's session at the start of the request, never failing: a bad credential is "no
    /// session" (and a bad cookie is cleared), a store that cannot answer is flagged as unavailable. Answers
    /// ``Eventual/now(_:)`` when no store must be asked.
    ///
    /// - Parameter credentials: The request's `Authorization` and `Cookie` fields.
    /// - Returns: The resolution, which ``SessionFlow`` makes current for the request's handler.
    func resolve(_ credentials: SessionCredentials) -> Eventual<SessionResolution<Subject>>

    /// Saves what the handler changed, after it ran.
    ///
    /// - Parameter resolution: The resolution ``resolve(_:)`` returned for this request.
    /// - Returns: Header fields the response must carry (a new or refreshed session cookie), or
    ///   ``AuthError/unavailable`` when the store cannot save (the integration answers 503 instead); ``Eventual/now(_:)``
    ///   when there is nothing to save.
    func commit(_ resolution: SessionResolution<Subject>) -> Eventual<Result<[HTTPField], AuthError>>

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

    /// Ends every session of a subject at once ("sign out everywhere", a deleted user): stored sessions are
    /// deleted, stateless ones issued until now revoked.
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Throws: When the sessions cannot be ended (no revocation store, a store that is down): fail closed.
    func endAllSessions(subjectID: String) async throws
}

extension SessionStrategy {
    /// Resolves an `HTTPRequest`'s session, waiting for the store when one must be asked.
    ///
    /// - Parameter request: The request.
    /// - Returns: The resolution.
    @inlinable
    public func resolve(_ request: HTTPRequest) async -> SessionResolution<Subject> {
        await resolve(SessionCredentials(request)).value
    }
}

extension SessionTokens: SessionStrategy {
    /// Resolves a request's session from its `Bearer` token or session cookie.
    ///
    /// A malformed, forged, expired or revoked token means "no session"; when it came from the cookie, the
    /// resolution asks the response to clear the cookie. A revocation store that cannot answer means no
    /// session either, flagged as ``SessionResolution/isUnavailable`` so guards answer 503 rather than 401.
    /// ``Eventual/now(_:)`` unless a revocation store on a server must be asked.
    ///
    /// - Parameter credentials: The request's `Authorization` and `Cookie` fields.
    /// - Returns: The resolution.
    @inlinable
    public func resolve(_ credentials: SessionCredentials) -> Eventual<SessionResolution<Subject>> {
        let bearer = credentials.authorization.flatMap(SessionTokens.bearerToken)
        guard let token = bearer ?? cookieToken(in: credentials.cookies) else { return .now(.none) }
        let fromCookie = bearer == nil
        switch verification(token) {
        case .now(let result): return .now(resolution(result, fromCookie: fromCookie))
        case .later(let verifying): return .later { resolution(await verifying(), fromCookie: fromCookie) }
        }
    }

    /// The resolution of a verified or rejected token: a rejected cookie is cleared (unless the revocation store
    /// was only unreachable).
    @inlinable
    func resolution(_ result: Result<AuthSession<Subject>, TokenError>, fromCookie: Bool) -> SessionResolution<Subject> {
        switch result {
        case .success(let session):
            return SessionResolution(session: session, isCookieAuthenticated: fromCookie)
        case .failure(let error):
            let clear = fromCookie && error != .revocationUnavailable
            return SessionResolution(session: nil, failure: error, responseFields: clear ? [HTTPField(name: .setCookie, value: configuration.cookie.clearCookie())] : [])
        }
    }

    /// Stateless sessions have nothing to save.
    @inlinable
    public func commit(_ resolution: SessionResolution<Subject>) -> Eventual<Result<[HTTPField], AuthError>> { .now(.success([])) }

    /// Issues a session token in the cookie (see ``cookie(_:redirect:)``); a token is new on every sign-in, and
    /// the valid tokens the request carried (cookie or `Bearer`) are revoked first, so a re-sign-in or an
    /// Auth.js `update` leaves no second live token behind.
    ///
    /// - Throws: ``AuthError/revocationUnavailable`` (503) when a token the request carried cannot be revoked.
    public func signIn(_ subject: Subject, request: HTTPRequest?, redirect: String) async throws -> HTTPResponse {
        if let request { try await revokeCarriedTokens(of: request) }
        AuditRequest.note(subjectID: subject.subjectIdentifier, sessionID: nil)
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
        try await revokeCarriedTokens(of: request, recording: .signOut)
        var response = clearCookie(redirect: redirect)
        response.status = .seeOther
        // A token that was split into chunks leaves with all of them.
        for value in ChunkedCookie(cookie: configuration.cookie).clearingChunks(in: request.headerFields[values: .cookie]) {
            response.headerFields.append(HTTPField(name: .setCookie, value: value))
        }
        return response
    }

    /// Revokes every token of the subject issued until now.
    ///
    /// - Throws: ``TokenError/revocationUnavailable`` without a revocation store or when it fails.
    public func endAllSessions(subjectID: String) async throws {
        try await revokeAll(subjectID: subjectID)
        await configuration.audit.record(.sessionRevoked, subjectID: subjectID, detail: "all")
    }

    /// Revokes each valid token the request carries, in its cookie and its `Authorization` field. A token that
    /// is invalid, expired or already revoked needs nothing; one whose status cannot be checked, or whose
    /// revocation cannot be recorded, fails closed.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - event: What to record for each token revoked, if anything.
    func revokeCarriedTokens(of request: HTTPRequest, recording event: AuditEvent.Kind? = nil) async throws(AuthError) {
        guard revocations != nil else { return }
        let credentials = SessionCredentials(request)
        let bearer = credentials.authorization.flatMap(SessionTokens.bearerToken)
        for token in Set([bearer, cookieToken(in: credentials.cookies)].compactMap { $0.map(String.init) }) {
            do {
                let session = try await verify(token)
                try await revoke(session)
                if let event { await configuration.audit.record(event, subjectID: session.subjectID, sessionID: session.id) }
            } catch where error == .revocationUnavailable {
                throw AuthError.revocationUnavailable
            } catch {
                continue
            }
        }
    }
}
