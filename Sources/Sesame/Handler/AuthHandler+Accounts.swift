import HTTPTypes
import Logging

extension AuthHandler {
    /// Creates a handler that keeps users and accounts itself, as Auth.js does with an adapter: no `onSuccess`
    /// to write.
    ///
    /// On each provider callback (after the `signIn` callback allowed it): an identity already linked signs its
    /// user in; one completed by a signed-in user is linked to them; a new one creates a user (or links to the user
    /// with its email address, when both sides proved the address; otherwise the browser lands on the error page
    /// with `account_not_linked`). Then a session is issued for the user through `sessions`, with a new session
    /// ID, and the browser goes to where the flow was headed (else `defaultRedirect`). The events `createUser`,
    /// `linkAccount` and `updateUser` (a sign-in proved the user's unverified address) are logged and passed to
    /// ``AuthCallbacks/event``.
    ///
    /// ```swift
    /// let auth = AuthHandler(
    ///     providers: ["github": OAuth2Provider.github(clientID: id, clientSecret: secret)],
    ///     configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys,
    ///     accounts: Accounts(store: SQLiteAccountStore(path: "app.sqlite"), keys: keys), sessions: sessions,
    ///     subject: { user in .user(userID: user.id) },
    ///     userID: { subject in if case .user(let id) = subject { id } else { nil } })
    /// ```
    ///
    /// - Parameters:
    ///   - providers: The providers, by name.
    ///   - configuration: The base URL, prefix and error page.
    ///   - keys: Keys for the tokens providers issue to themselves.
    ///   - replay: Where OAuth / OpenID Connect flows are redeemed once.
    ///   - accounts: The users and accounts.
    ///   - sessions: The app's sessions; the Auth.js `session` action shows the user's name, email and image.
    ///   - subject: The session subject of a user.
    ///   - userID: The user of a session subject, or `nil` for sessions that are not a user's.
    ///   - defaultRedirect: Where a browser goes after signing in when the flow named no target (default `/`).
    ///   - callbacks: The `signIn`, `redirect` and `event` callbacks.
    ///   - pages: The built-in pages' theme and replacements.
    ///   - logger: Where flow errors and events are logged.
    public init<Strategy: SessionStrategy>(
        providers: [String: any AuthProvider],
        configuration: AuthConfiguration,
        keys: KeySet,
        replay: any ReplayStore = MemoryReplayStore(),
        accounts: Accounts,
        sessions: Strategy,
        subject: @escaping @Sendable (AuthUser) -> Strategy.Subject,
        userID: @escaping @Sendable (Strategy.Subject) -> String?,
        defaultRedirect: String = "/",
        callbacks: AuthCallbacks = AuthCallbacks(),
        pages: AuthPages = AuthPages(),
        logger: Logger = Logger(label: "sesame.auth")
    ) {
        let types = providers.mapValues { AccountType(providerType: $0.type) }
        let access = SessionAccess(sessions) { session -> JSONObject? in
            guard let id = userID(session.subject), let user = try await accounts.store.user(id: id) else { return nil }
            var shown: JSONObject = ["id": .string(user.id)]
            if let name = user.name { shown["name"] = .string(name) }
            if let email = user.email { shown["email"] = .string(email) }
            if let image = user.image { shown["image"] = .string(image) }
            return shown
        }
        self.init(
            providers: providers, configuration: configuration, keys: keys, replay: replay, sessions: access, callbacks: callbacks,
            pages: pages, endSessions: { user in try await sessions.endAllSessions(subjectID: subject(user).subjectIdentifier) }, logger: logger
        ) { success in
            let head = success.request.head
            // A signed-in user who completes another provider's sign-in links it.
            let current = await sessions.resolve(head).session.flatMap { userID($0.subject) }
            let signIn = try await accounts.signIn(
                provider: success.provider, type: types[success.provider] ?? .oauth, identity: success.identity, signedInUserID: current)
            let event: String? = switch signIn.trigger {
            case .signUp: "createUser"
            case .link: "linkAccount"
            case .signIn: signIn.updatedUser ? "updateUser" : nil
            }
            if let event {
                let record = AuthEvent(name: event, provider: success.provider, subjectID: signIn.user.id)
                logger.info("Account event", metadata: record.metadata)
                await callbacks.event(record)
            }
            do {
                return AuthResponse(try await sessions.signIn(subject(signIn.user), request: head, redirect: success.returnTo ?? defaultRedirect))
            } catch let error as SessionStoreError {
                // The session store is down: a clear 503, never a 500.
                throw AuthError.unavailable.with(detail: error.description)
            }
        }
    }
}

extension AccountType {
    /// The account type of a provider's ``AuthProvider/type`` (`oidc`, `oauth`, `link`, `credentials`,
    /// `webauthn`; any other is `oauth`).
    ///
    /// - Parameter providerType: The provider's type.
    public init(providerType: String) {
        switch providerType {
        case "oidc": self = .oidc
        case "link", "email": self = .email
        case "credentials": self = .credentials
        case "webauthn": self = .webauthn
        default: self = .oauth
        }
    }
}

extension AuthSuccess {
    /// What the provider verified, as it returned it (for ``Accounts/signIn(provider:type:identity:signedInUserID:)``).
    public var identity: ProviderIdentity {
        var identity = ProviderIdentity(claims: claims, tokens: tokens, profile: profile, rawProfile: rawProfile, returnTo: returnTo)
        identity.passkeySignUp = passkeySignUp
        return identity
    }
}
