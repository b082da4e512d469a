import Sesame
import SesameVapor
import Vapor

/// Who a session belongs to: one case per kind of session the app issues.
enum AppSession: SessionSubject {
    case user(email: String)
}

/// Sets the app up, with sign-in by email link under `/auth`.
///
/// - Parameters:
///   - app: The application.
///   - baseURL: The app's public address; every link and redirect Sesame makes starts with it.
///   - keys: The keys that sign sessions and sign-in links.
///   - sendLink: Delivers a sign-in link to an email address.
func configure(
    _ app: Application,
    baseURL: String,
    keys: KeySet,
    sendLink: @escaping @Sendable (_ link: String, _ email: String) async throws -> Void
) async throws {
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
    app.addAuthHandler(auth)

    app.get { _ in "Welcome!" }
    app.get("account") { _ in "Your account" }
}
