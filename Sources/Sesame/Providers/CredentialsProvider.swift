import Foundation
import HTTPTypes

/// Sign-in with credentials the app checks itself (an LDAP bind, a legacy users table): Auth.js's `Credentials`
/// provider. For email and password on Sesame's own store, use ``PasswordProvider``.
///
/// ```swift
/// let ldap = CredentialsProvider(displayName: "Company account", fields: [.init(name: "username", label: "Username")]) { credentials, _ in
///     guard let user = try await directory.bind(credentials["username"], credentials["password"]) else { return nil }
///     return ProviderIdentity(claims: [:], profile: Profile(id: user.dn, email: user.mail, emailVerified: true, name: user.cn))
/// }
/// ```
///
/// `POST /callback/{name}` (or `POST /signin/{name}`) with the fields, the CSRF token and a same-origin request
/// calls `authorize`; an identity (its ``Profile/id`` names the account) signs in, `nil` is refused with
/// ``AuthError/invalidCredentials`` (browsers go back to the sign-in page with `?error=invalid_credentials`).
/// Attempts are limited per client. `GET /{name}/authorize` shows the form.
public struct CredentialsProvider: AuthProvider {
    /// One field of the form.
    public struct Field: Sendable {
        /// The parameter name.
        public var name: String
        /// The label people see.
        public var label: String
        /// The input type (`text`, `password`, `email`, …).
        public var type: String

        /// Creates a field.
        public init(name: String, label: String, type: String = "text") {
            self.name = name
            self.label = label
            self.type = type
        }
    }

    public let type = "credentials"
    public let displayName: String
    /// The form's fields (default: username and password).
    public let fields: [Field]
    /// Attempts per client address (default: 30 at once, then one every 2 seconds).
    public let perClient: any RateLimiter
    private let check: @Sendable (URLEncodedForm, AuthRequest) async throws -> ProviderIdentity?

    /// Creates the provider.
    ///
    /// - Parameters:
    ///   - displayName: A name for people.
    ///   - fields: The form's fields.
    ///   - perClient: The per-client limit on attempts.
    ///   - authorize: Checks the submitted fields (the CSRF token and `callbackUrl` removed): who signed in, or `nil`.
    ///     Throw ``AuthError`` for other refusals; it runs on the request's task, so hash on a queue of your own
    ///     (or ``ScryptPasswordHasher``'s).
    public init(
        displayName: String,
        fields: [Field] = [Field(name: "username", label: "Username"), Field(name: "password", label: "Password", type: "password")],
        perClient: any RateLimiter = MemoryRateLimiter(capacity: 30, refillInterval: 2),
        authorize: @escaping @Sendable (_ credentials: URLEncodedForm, _ request: AuthRequest) async throws -> ProviderIdentity?
    ) {
        self.displayName = displayName
        self.fields = fields
        self.perClient = perClient
        self.check = authorize
    }

    public var submitsForms: Bool { true }

    /// `GET`: the provider's form.
    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        guard request.head.method == .get || request.head.method == .head else { throw AuthError.methodNotAllowed }
        let callbackURL = request.query["callbackUrl"].flatMap(context.configuration.redirectPolicy.allowed)
        return context.csrf.responding(to: request.head) { token in
            context.pages.render(
                title: displayName,
                body: AuthPages.notice(error: request.query["error"])
                    + AuthPages.credentialsForm(
                        name: context.provider, fields: fields, hidden: AuthPages.hiddenFields(csrfToken: token, callbackURL: callbackURL),
                        configuration: context.configuration))
        }
    }

    /// `POST`: the app's check.
    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        guard request.head.method == .post else { throw AuthError.methodNotAllowed }
        let form = request.formOrJSON
        do {
            if let client = request.clientAddress { try await perClient.take("credentials-client:" + RateLimitKey.client(client)) }
            let credentials = URLEncodedForm(form.pairs.filter { $0.name != "csrfToken" && $0.name != "callbackUrl" })
            guard var identity = try await check(credentials, request), let id = identity.profile?.id, !id.isEmpty else { throw AuthError.invalidCredentials }
            if identity.returnTo == nil { identity.returnTo = form["callbackUrl"] }
            return .signedIn(identity)
        } catch let error as AuthError where request.isBrowserNavigation && error.status.code < 500 && error.status != .tooManyRequests {
            context.countRefusal(error)
            await context.countFailedSignIn(error)
            return .respond(.redirect(to: URLEncodedForm.appending(name: "error", value: error.code, to: context.configuration.url("/signin")), status: .seeOther))
        }
    }
}

extension AuthPages {
    /// A credentials provider's form, on the sign-in page and its own.
    static func credentialsForm(name: String, fields: [CredentialsProvider.Field], hidden: String, configuration: AuthConfiguration) -> String {
        var html = "<form method=\"post\" action=\"\(HTML.escape(configuration.url("/callback/\(name)")))\" class=\"provider\">\(hidden)"
        for field in fields {
            let id = HTML.escape("\(name)-\(field.name)")
            let autocomplete = field.type == "password" ? " autocomplete=\"current-password\"" : (field.type == "email" ? " autocomplete=\"username\"" : "")
            html += "<label for=\"\(id)\">\(HTML.escape(field.label))</label><input id=\"\(id)\" name=\"\(HTML.escape(field.name))\" type=\"\(HTML.escape(field.type))\"\(autocomplete) required>"
        }
        return html + "<button type=\"submit\">Sign in</button></form>"
    }
}
