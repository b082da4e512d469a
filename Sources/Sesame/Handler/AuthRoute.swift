/// What a path under ``AuthHandler``'s prefix names: the one place paths become routes.
///
/// - `{prefix}`: the index of providers;
/// - `{prefix}/{action}`: an Auth.js action (``Action``);
/// - `{prefix}/signin/{provider}`: Auth.js's start of a provider's sign-in;
/// - `{prefix}/{provider}/authorize` and `{prefix}/{provider}/callback`: the provider's steps, and Auth.js's
///   `{prefix}/callback/{provider}`, the same callback;
/// - `{prefix}/{provider}/{step}`: a further step of the provider's own (``AuthProvider/step(_:request:context:)``).
enum AuthRoute: Equatable {
    case index
    case action(Action)
    case signIn(provider: String)
    case authorize(provider: String)
    case callback(provider: String)
    case step(provider: String, step: String)
    /// A native app's sign-in in the browser: `native/authorize`, `native/complete`.
    case native(step: String)

    /// The Auth.js actions: their path segments are reserved, no provider may be named like one (`callback` only
    /// as the first segment of `callback/{provider}`).
    enum Action: String, CaseIterable {
        case providers, csrf, session, signin, signout, callback, error
        case verifyRequest = "verify-request"
        /// The passkey ceremonies' script, for the pages that offer passkeys.
        case passkeyScript = "passkey.js"
        /// The native apps' token and revocation endpoints (``NativeAppSessions``).
        case token, revoke
        /// The browser client module (``BrowserClientScript``) and its TypeScript declarations.
        case clientScript = "client.js"
        case clientDeclarations = "client.d.ts"
    }

    /// The route a path names.
    ///
    /// - Parameters:
    ///   - path: The request's path, without its query.
    ///   - prefix: The handler's prefix.
    ///   - isProvider: Whether a name is a configured provider's.
    /// - Throws: ``AuthError/unknownProvider`` for a provider path of a provider that is not configured,
    ///   ``AuthError/notFound`` for anything else that is not a route.
    init(path: String, prefix: String, isProvider: (String) -> Bool) throws(AuthError) {
        guard path == prefix || path.hasPrefix(prefix + "/") else { throw AuthError.notFound }
        let segments = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch segments.count {
        case 0:
            self = .index
        case 1:
            guard let action = Action(rawValue: segments[0]) else {
                throw isProvider(segments[0]) ? AuthError.notFound : AuthError.unknownProvider
            }
            self = .action(action)
        case 2 where segments[0] == Action.signin.rawValue:
            // Whether the provider exists is the action's to say, after its method check.
            self = .signIn(provider: segments[1])
        case 2 where segments[0] == "webauthn-options":
            // Auth.js's passkey options action, answered by the named provider.
            guard isProvider(segments[1]) else { throw AuthError.unknownProvider }
            self = .step(provider: segments[1], step: "webauthn-options")
        case 2 where segments[0] == "native":
            self = .native(step: segments[1])
        case 2 where segments[0] == Action.callback.rawValue:
            guard isProvider(segments[1]) else { throw AuthError.unknownProvider }
            self = .callback(provider: segments[1])
        case 2:
            guard isProvider(segments[0]) else { throw AuthError.unknownProvider }
            switch segments[1] {
            case "authorize": self = .authorize(provider: segments[0])
            case "callback": self = .callback(provider: segments[0])
            default: self = .step(provider: segments[0], step: segments[1])
            }
        default:
            throw isProvider(segments[0]) || Action(rawValue: segments[0]) != nil ? AuthError.notFound : AuthError.unknownProvider
        }
    }
}
