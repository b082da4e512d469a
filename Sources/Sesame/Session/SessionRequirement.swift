import HTTPTypes

/// What a protected route requires: a session, optionally of a given kind, and how to say no.
///
/// Without a session, browser navigations are redirected to the sign-in URL (with the page they wanted as
/// `redirect`, a relative path only), and API requests get `401` with `{"error":"unauthorized"}`. A session of
/// the wrong kind gets `403`; a session store that is down gets `503`.
public struct SessionRequirement<Subject: SessionSubject>: Sendable {
    /// Where browsers without a session go.
    public var signInURL: String
    @usableFromInline let accepts: @Sendable (AuthSession<Subject>) -> Bool

    /// Creates a requirement.
    ///
    /// - Parameters:
    ///   - signInURL: Where browsers without a session go (default `/`).
    ///   - accepts: Which sessions qualify, for example only `.user` sessions (default: any).
    public init(signInURL: String = "/", accepts: @escaping @Sendable (AuthSession<Subject>) -> Bool = { _ in true }) {
        self.signInURL = signInURL
        self.accepts = accepts
    }

    /// The response refusing the request, or `nil` when the request may proceed.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - resolution: The request's session resolution.
    /// - Returns: A redirect to sign in (browser navigations), `401`, `403` or `503` JSON; or `nil`.
    @inlinable
    public func refusal(for request: some SessionFlowRequest, resolution: SessionResolution<Subject>) -> AuthResponse? {
        // The common case, a qualifying session, is settled here; everything else reads the request.
        if let session = resolution.session, accepts(session) { return nil }
        return refusalOfNonQualifying(request, resolution: resolution)
    }

    /// The refusal of a request without a qualifying session.
    @usableFromInline
    func refusalOfNonQualifying(_ request: some SessionFlowRequest, resolution: SessionResolution<Subject>) -> AuthResponse {
        if resolution.session != nil {
            return .json(["error": "forbidden", "error_description": "this session may not use this route"], status: .forbidden)
        }
        if resolution.isUnavailable {
            var response = AuthResponse.json(
                ["error": "temporarily_unavailable", "error_description": "sessions cannot be checked right now", "reason": .string(resolution.failure?.code ?? "unavailable")],
                status: .serviceUnavailable)
            response.head.headerFields[.retryAfter] = "5"
            return response
        }
        var response: AuthResponse
        if request.isBrowserNavigation {
            let path = request.pathAndQuery
            let wanted = path.hasPrefix("/") && !path.hasPrefix("//") ? path : "/"
            response = .redirect(to: URLEncodedForm.appending(name: "redirect", value: wanted, to: signInURL))
        } else {
            response = .json(["error": "unauthorized", "error_description": "a session is required"], status: .unauthorized)
            response.head.headerFields[.wwwAuthenticate] = "Bearer"
        }
        for field in resolution.responseFields { response.head.headerFields.append(field) }
        return response
    }

    /// The refusal of a request whose session the ``SessionFlow`` above has already resolved (the current one), for
    /// a guard on a group of routes below a flow without a requirement.
    ///
    /// - Parameter request: The request.
    /// - Returns: The refusal, or `nil`.
    public func refusalOfCurrent(_ request: some SessionFlowRequest) -> AuthResponse? {
        refusal(for: request, resolution: SessionResolution<Subject>.current ?? .none)
    }
}
