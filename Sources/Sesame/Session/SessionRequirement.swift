import Foundation
import HTTPTypes

/// What a protected route requires: a session, optionally of a given kind, and how to say no.
///
/// Without a session, browser navigations are redirected to the sign-in URL (with the page they wanted as
/// `redirect`, a relative path only), and API requests get `401` with `{"error":"unauthorized"}`. A session of
/// the wrong kind gets `403`; a session store that is down gets `503`. With ``maxAge``, a session whose sign-in is
/// older gets `403` with `{"error":"reauth_required"}`, or, for a browser, the sign-in URL with `reauth=1` and the
/// page to return to.
public struct SessionRequirement<Subject: SessionSubject>: Sendable {
    /// Where browsers without a session go.
    public var signInURL: String
    /// How recent the sign-in must be, for sensitive routes (change a password, remove a factor, delete the user);
    /// `nil` for any age. A session's ``AuthSession/issuedAt`` is its sign-in: neither strategy moves it.
    public var maxAge: Duration?
    @usableFromInline let accepts: @Sendable (AuthSession<Subject>) -> Bool

    /// Creates a requirement.
    ///
    /// - Parameters:
    ///   - signInURL: Where browsers without a session go (default `/`).
    ///   - maxAge: How recent the sign-in must be (default: any age). An older session is refused with `403
    ///     reauth_required` (APIs) or sent to `signInURL` with `reauth=1` and the way back (browsers).
    ///   - accepts: Which sessions qualify, for example only `.user` sessions (default: any).
    public init(signInURL: String = "/", maxAge: Duration? = nil, accepts: @escaping @Sendable (AuthSession<Subject>) -> Bool = { _ in true }) {
        self.signInURL = signInURL
        self.maxAge = maxAge
        self.accepts = accepts
    }

    /// Whether a session's sign-in is recent enough.
    @usableFromInline
    func isRecent(_ session: AuthSession<Subject>) -> Bool {
        guard let maxAge else { return true }
        let (seconds, attoseconds) = maxAge.components
        return Date().timeIntervalSince(session.issuedAt) <= Double(seconds) + Double(attoseconds) / 1e18
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
        if let session = resolution.session, accepts(session), isRecent(session) { return nil }
        return refusalOfNonQualifying(request, resolution: resolution)
    }

    /// The refusal of a request without a qualifying session.
    @usableFromInline
    func refusalOfNonQualifying(_ request: some SessionFlowRequest, resolution: SessionResolution<Subject>) -> AuthResponse {
        if let session = resolution.session {
            guard accepts(session) else {
                return .json(["error": "forbidden", "error_description": "this session may not use this route"], status: .forbidden)
            }
            // A qualifying session whose sign-in is too old: sign in again, then come back.
            guard request.isBrowserNavigation else { return AuthError.reauthRequired.jsonResponse }
            let query = URLEncodedForm.appending(name: "redirect", value: Self.localTarget(request.pathAndQuery), to: signInURL)
            return .redirect(to: URLEncodedForm.appending(name: "reauth", value: "1", to: query))
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
            response = .redirect(to: URLEncodedForm.appending(name: "redirect", value: Self.localTarget(request.pathAndQuery), to: signInURL))
        } else {
            response = .json(["error": "unauthorized", "error_description": "a session is required"], status: .unauthorized)
            response.head.headerFields[.wwwAuthenticate] = "Bearer"
        }
        for field in resolution.responseFields { response.head.headerFields.append(field) }
        return response
    }

    /// Where to come back to after signing in: the request's path and query when it is a local path.
    @usableFromInline
    static func localTarget(_ path: String) -> String {
        path.hasPrefix("/") && !path.hasPrefix("//") ? path : "/"
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
