/// Why a ``SesameClient`` call failed.
public enum SesameClientError: Error, Sendable, Equatable {
    /// The server refused: its stable error code (`invalid_credentials`, `invalid_grant`, `rate_limited`, …), the
    /// text for people it sent, and the HTTP status.
    case refused(code: String, message: String?, status: Int)
    /// The call needs a signed-in client.
    case notSignedIn
    /// The password was right and the account has a second factor: finish with
    /// ``SesameClient/verifySecondFactor(code:provider:)``.
    case secondFactorRequired
    /// The server answered something this client does not understand.
    case invalidResponse(String)
    /// The browser sign-in came back without a code, or with another sign-in's `state`.
    case invalidCallback(String)
    /// The token storage failed (its status).
    case storage(Int)

    /// The server's error code, when it refused.
    public var code: String? {
        if case .refused(let code, _, _) = self { return code }
        return nil
    }
}
