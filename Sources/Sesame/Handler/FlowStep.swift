/// One timed step of a sign-in callback, as reported to ``AuthConfiguration/stepObserver``.
///
/// An extensible set: new steps may be added, so switch over it with a `default` case.
public struct FlowStep: Sendable, Hashable, CustomStringConvertible {
    enum Base: String, Sendable, Hashable {
        case stateCheck = "state_check"
        case codeExchange = "code_exchange"
        case idTokenVerification = "id_token_verification"
        case userInfo = "user_info"
        case signIn = "sign_in"
    }

    let base: Base

    /// Reading the flow cookie, comparing `state` and the RFC 9207 `iss`, and redeeming the flow once.
    public static let stateCheck = FlowStep(base: .stateCheck)
    /// The code exchange at the provider's token endpoint (one HTTP round trip, the provider's time included).
    public static let codeExchange = FlowStep(base: .codeExchange)
    /// Verifying an OpenID Connect ID token (signature and claims).
    public static let idTokenVerification = FlowStep(base: .idTokenVerification)
    /// The user-info request (one HTTP round trip).
    public static let userInfo = FlowStep(base: .userInfo)
    /// The app's `onSuccess`, which usually issues the session.
    public static let signIn = FlowStep(base: .signIn)

    /// A stable name for metrics: `state_check`, `code_exchange`, `id_token_verification`, `user_info`, `sign_in`.
    public var description: String { base.rawValue }
}
