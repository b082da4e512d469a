import Logging

/// The app's hooks into sign-in, as in Auth.js: `signIn` (allow, deny or send elsewhere), `redirect` (where a
/// browser may go), and `event` (audit logging).
///
/// The `jwt` and `session` callbacks of Auth.js have typed counterparts: the app shapes the stateless token by
/// choosing the session subject in `onSuccess`, and shapes what clients see with ``SessionAccess``'s `user`.
public struct AuthCallbacks: Sendable {
    /// What the `signIn` callback decides.
    public enum SignInDecision: Sendable {
        /// Continue to `onSuccess`.
        case allow
        /// Refuse: `access_denied` (browsers land on the error page).
        case deny
        /// Refuse and send the browser to this URL (checked by the `redirect` callback).
        case redirect(String)
    }

    /// Runs before `onSuccess` (default: allow everyone).
    public var signIn: @Sendable (AuthSuccess) async throws -> SignInDecision
    /// Decides whether a browser may be sent to a URL, returning the URL to use (default: ``RedirectPolicy``,
    /// this site's paths and the trusted origins).
    public var redirect: @Sendable (_ target: String, _ policy: RedirectPolicy) -> String?
    /// Receives every ``AuthEvent`` (default: none; events are logged either way).
    public var event: @Sendable (AuthEvent) async -> Void

    /// Creates callbacks; each defaults to Auth.js's default behaviour.
    public init(
        signIn: @escaping @Sendable (AuthSuccess) async throws -> SignInDecision = { _ in .allow },
        redirect: @escaping @Sendable (_ target: String, _ policy: RedirectPolicy) -> String? = { target, policy in policy.allowed(target) },
        event: @escaping @Sendable (AuthEvent) async -> Void = { _ in }
    ) {
        self.signIn = signIn
        self.redirect = redirect
        self.event = event
    }
}

/// Something that happened, for audit logs: logged by swift-log with stable fields (`event`, `provider`,
/// `subject`), and passed to ``AuthCallbacks/event``. Never carries a token or secret.
public struct AuthEvent: Sendable, Equatable {
    /// `signIn`, `signOut`, `session`, `createUser` or `linkAccount`.
    public let name: String
    /// The provider involved, if any.
    public let provider: String?
    /// The subject's stable identifier, if known.
    public let subjectID: String?

    /// Creates an event (apps emit `createUser` and `linkAccount` from their own `onSuccess`).
    public init(name: String, provider: String? = nil, subjectID: String? = nil) {
        self.name = name
        self.provider = provider
        self.subjectID = subjectID
    }

    /// The structured log fields.
    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["event": .string(name)]
        if let provider { metadata["provider"] = .string(provider) }
        if let subjectID { metadata["subject"] = .string(subjectID) }
        return metadata
    }
}
