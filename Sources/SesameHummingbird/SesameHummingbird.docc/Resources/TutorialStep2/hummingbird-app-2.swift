import Hummingbird
import Sesame
import SesameHummingbird

/// Who a session belongs to: one case per kind of session the app issues.
enum AppSession: SessionSubject {
    case user(email: String)
}

/// Builds the app, with sign-in by email link under `/auth`.
///
/// - Parameters:
///   - configuration: Where the server listens.
///   - baseURL: The app's public address; every link and redirect Sesame makes starts with it.
///   - keys: The keys that sign sessions and sign-in links.
///   - sendLink: Delivers a sign-in link to an email address.
func buildApplication(
    configuration: ApplicationConfiguration,
    baseURL: String,
    keys: KeySet,
    sendLink: @escaping @Sendable (_ link: String, _ email: String) async throws -> Void
) throws -> some ApplicationProtocol {
    let sessions = try SessionTokens<AppSession>(
        keys: keys,
        configuration: SessionConfiguration(cookie: SessionCookie(baseURL: baseURL)))

    let emailLink = LinkProvider { link, claims in
        guard let email = claims["email"]?.stringValue else { return }
        try await sendLink(link, email)
    }

    let auth = AuthHandler(
        providers: ["email": emailLink],
        configuration: AuthConfiguration(baseURL: baseURL),
        keys: keys,
        sessions: SessionAccess(sessions) { session in
            switch session.subject {
            case .user(let email): ["email": .string(email)]
            }
        }
    ) { success in
        guard let email = success.claims["email"]?.stringValue else { throw AuthError.accessDenied }
        return AuthResponse(try await sessions.signIn(
            .user(email: email), request: success.request.head, redirect: success.returnTo ?? "/"))
    }

    let router = Router(context: BasicSesameRequestContext<AppSession>.self)
    router.addAuthHandler(auth)
    router.get("/") { _, _ in "Welcome!" }
    router.get("/account") { _, _ in "Your account" }
    return Application(router: router, configuration: configuration)
}
