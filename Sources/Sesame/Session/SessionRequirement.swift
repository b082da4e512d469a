import HTTPTypes

/// What a protected route requires: a session, optionally of a given kind, and how to say no.
///
/// Without a session, browser navigations are redirected to the sign-in URL (with the page they wanted as
/// `redirect`, a relative path only), and API requests get `401` with `{"error":"unauthorized"}`. A session of
/// the wrong kind gets `403`; a session store that is down gets `503`.
public struct SessionRequirement<Subject: SessionSubject>: Sendable {
    /// Where browsers without a session go.
    public var signInURL: String
    private let accepts: @Sendable (Session<Subject>) -> Bool

    /// Creates a requirement.
    ///
    /// - Parameters:
    ///   - signInURL: Where browsers without a session go (default `/`).
    ///   - accepts: Which sessions qualify, for example only `.user` sessions (default: any).
    public init(signInURL: String = "/", accepts: @escaping @Sendable (Session<Subject>) -> Bool = { _ in true }) {
        self.signInURL = signInURL
        self.accepts = accepts
    }

    /// The response refusing the request, or `nil` when the request may proceed.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - resolution: The request's session resolution.
    public func refusal(for request: HTTPRequest, resolution: SessionResolution<Subject>) -> AuthResponse? {
        if let session = resolution.session {
            if accepts(session) { return nil }
            return .json(["error": "forbidden", "error_description": "this session may not use this route"], status: .forbidden)
        }
        if resolution.isUnavailable {
            var response = AuthResponse.json(
                ["error": "temporarily_unavailable", "error_description": "sessions cannot be checked right now", "reason": .string(resolution.failure?.code ?? "unavailable")],
                status: .serviceUnavailable)
            response.head.headerFields[.retryAfter] = "5"
            return response
        }
        let navigation = AuthRequest(head: request)
        var response: AuthResponse
        if navigation.isBrowserNavigation {
            let wanted = navigation.path.hasPrefix("/") && !navigation.path.hasPrefix("//") ? (request.path ?? "/") : "/"
            response = .redirect(to: URLEncodedForm.appending(name: "redirect", value: wanted, to: signInURL))
        } else {
            response = .json(["error": "unauthorized", "error_description": "a session is required"], status: .unauthorized)
            response.head.headerFields[.wwwAuthenticate] = "Bearer"
        }
        for field in resolution.responseFields { response.head.headerFields.append(field) }
        return response
    }
}
