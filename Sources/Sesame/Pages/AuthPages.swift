import HTTPTypes

/// Sesame's one HTML renderer: every page it serves (sign-in, sign-out, verify-request, errors, the provider index,
/// a link's "check your email" and confirmation pages) is drawn by ``render(title:body:status:)``, server-rendered,
/// working without JavaScript, light and dark, themable; the Auth.js pages are each replaceable by the app's own URL.
public struct AuthPages: Sendable {
    /// The brand colour of buttons and links, as a CSS colour (default a blue with AA contrast on white).
    public var brandColor: String
    /// A logo shown above each page's heading (an `https:` or `data:` URL), if any.
    public var logoURL: String?
    /// The sign-in page's heading and title.
    public var signInTitle: String
    /// A button's text for a provider; `%@` is replaced by the provider's name.
    public var buttonText: String
    /// The app's own sign-in page, used instead of the built-in one.
    public var signInURL: String?
    /// The app's own sign-out page.
    public var signOutURL: String?
    /// The app's own "check your email" page.
    public var verifyRequestURL: String?

    /// Creates the pages' settings.
    public init(
        brandColor: String = "#1f5fbf", logoURL: String? = nil, signInTitle: String = "Sign in", buttonText: String = "Sign in with %@",
        signInURL: String? = nil, signOutURL: String? = nil, verifyRequestURL: String? = nil
    ) {
        self.brandColor = brandColor
        self.logoURL = logoURL
        self.signInTitle = signInTitle
        self.buttonText = buttonText
        self.signInURL = signInURL
        self.signOutURL = signOutURL
        self.verifyRequestURL = verifyRequestURL
    }

    /// The strict policy of every page; the sign-in page's forms may also lead to the providers' origins.
    static func contentSecurityPolicy(formActions: [String] = []) -> String {
        let actions = (["'self'"] + formActions.sorted()).joined(separator: " ")
        return "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action \(actions); frame-ancestors 'none'; base-uri 'none'"
    }

    /// The sign-in page: a button per provider, the email form for magic links, the forms of password and
    /// credentials providers.
    func signIn(
        providers: [(name: String, provider: any AuthProvider)], csrfToken: String, callbackURL: String?, error: String?,
        message: String? = nil, configuration: AuthConfiguration
    ) -> AuthResponse {
        var body = header(signInTitle)
        if let error {
            body += "<p class=\"error\" role=\"alert\">\(HTML.escape(ErrorMessages.text[error] ?? "Sign-in did not complete. Try again."))</p>"
        }
        let hidden = "<input type=\"hidden\" name=\"csrfToken\" value=\"\(HTML.escape(csrfToken))\">"
            + (callbackURL.map { "<input type=\"hidden\" name=\"callbackUrl\" value=\"\(HTML.escape($0))\">" } ?? "")
        if let message { body += "<p role=\"status\">\(HTML.escape(message))</p>" }
        // With a passkey provider, the password form's address field offers passkeys too (autofill); without a
        // password form, the passkey part brings a field of its own.
        let passkeyProvider = providers.first { $0.provider is PasskeyProvider }
        let hasPasswordForm = providers.contains { $0.provider is PasswordProvider }
        for (name, provider) in providers {
            let action = HTML.escape(configuration.url("/signin/\(name)"))
            if provider is PasskeyProvider {
                body += Self.passkeySignIn(name: name, csrfToken: csrfToken, callbackURL: callbackURL, withUsernameField: !hasPasswordForm, configuration: configuration)
            } else if provider is PasswordProvider {
                body += Self.passwordSignInForm(
                    name: name, displayName: provider.displayName, hidden: hidden, offersPasskeys: passkeyProvider != nil, configuration: configuration)
            } else if let credentials = provider as? CredentialsProvider {
                body += Self.credentialsForm(name: name, fields: credentials.fields, hidden: hidden, configuration: configuration)
            } else if provider.type == "link" {
                body += """
                    <form method="post" action="\(action)" class="provider">\(hidden)
                    <label for="email-\(HTML.escape(name))">Email address</label>
                    <input id="email-\(HTML.escape(name))" name="email" type="email" autocomplete="email" required>
                    <button type="submit">\(HTML.escape(buttonText.replacingOccurrences(of: "%@", with: provider.displayName)))</button>
                    </form>
                    """
            } else {
                body += """
                    <form method="post" action="\(action)" class="provider">\(hidden)
                    <button type="submit">\(HTML.escape(buttonText.replacingOccurrences(of: "%@", with: provider.displayName)))</button>
                    </form>
                    """
            }
        }
        if passkeyProvider != nil { body += Self.passkeyScript(configuration: configuration) }
        return page(signInTitle, body)
    }

    /// The sign-out confirmation: one button, posting the CSRF token.
    func signOut(csrfToken: String, callbackURL: String?, configuration: AuthConfiguration) -> AuthResponse {
        let body = header("Sign out") + """
            <p>Are you sure you want to sign out?</p>
            <form method="post" action="\(HTML.escape(configuration.url("/signout")))">
            <input type="hidden" name="csrfToken" value="\(HTML.escape(csrfToken))">
            \(callbackURL.map { "<input type=\"hidden\" name=\"callbackUrl\" value=\"\(HTML.escape($0))\">" } ?? "")
            <button type="submit">Sign out</button>
            </form>
            """
        return page("Sign out", body)
    }

    /// "Check your email", after a magic link was requested.
    func verifyRequest(configuration: AuthConfiguration) -> AuthResponse {
        page("Check your email", header("Check your email") + """
            <p>A sign-in link has been sent to your email address, if it can sign in. It works once, for a few minutes.</p>
            <p><a href="\(HTML.escape(configuration.baseURL + "/"))">Back to the site</a></p>
            """)
    }

    /// The error page (`?error=CODE`): known codes are explained, unknown ones are not reflected.
    func error(code: String?, configuration: AuthConfiguration, status: HTTPResponse.Status = .ok) -> AuthResponse {
        let known = code.flatMap { ErrorMessages.text[$0] }
        var body = "<p role=\"alert\">\(HTML.escape(known ?? "Sign-in did not complete."))</p>"
        if known != nil, let code { body += "<p class=\"muted\">Error code: <code>\(HTML.escape(code))</code></p>" }
        body += "<p><a href=\"\(HTML.escape(configuration.url("/signin")))\">Try again</a></p>"
        return render(title: "Sign-in error", body: body, status: status)
    }

    func header(_ title: String) -> String {
        (logoURL.map { "<img class=\"logo\" src=\"\(HTML.escape($0))\" alt=\"\" width=\"48\" height=\"48\">" } ?? "") + "<h1>\(HTML.escape(title))</h1>"
    }

    /// A page in the theme: the logo, `title` as its heading, then `body`, with the strict content security policy.
    ///
    /// - Parameters:
    ///   - title: The page's title and heading (escaped here).
    ///   - body: The HTML below the heading (escape what you interpolate with ``HTML/escape(_:)``).
    ///   - status: The status (default `200`).
    /// - Returns: The page.
    public func render(title: String, body: String, status: HTTPResponse.Status = .ok) -> AuthResponse {
        var response = page(title, header(title) + body)
        response.head.status = status
        return response
    }

    func page(_ title: String, _ body: String, allowsScripts: Bool, configuration: AuthConfiguration? = nil) -> AuthResponse {
        var response = page(title, body)
        if allowsScripts { response.head.headerFields[.contentSecurityPolicy] = AuthPages.contentSecurityPolicyWithScripts(configuration: configuration) }
        return response
    }

    func page(_ title: String, _ body: String) -> AuthResponse {
        // The brand colour is interpolated into CSS: only plain colour syntax is accepted.
        let safeColor = brandColor.allSatisfy { $0.isLetter || $0.isNumber || "#(),.% ".contains($0) } ? brandColor : "#1f5fbf"
        let style = """
            <style>
            :root { --brand: \(safeColor); }
            main { max-width: 24rem; margin: 0 auto; }
            .logo { display: block; margin: 0 auto 1rem; }
            h1 { text-align: center; }
            form.provider { margin: 1.5rem 0; }
            form button { width: 100%; background: var(--brand); color: #fff; border: 0; border-radius: .375rem; padding: .75rem 1rem; cursor: pointer; }
            form button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
            .error { border-left: 4px solid #c62828; padding: .5rem 1rem; }
            .qr { margin: 1rem auto; width: max-content; background: #fff; padding: .5rem; }
            @media (prefers-color-scheme: dark) { form button { color: #fff; filter: brightness(1.1); } }
            </style>
            """
        var response = AuthResponse.html(HTML.page(title: title, body: style + "<main>" + body + "</main>"))
        // A logo may come from another https origin.
        response.head.headerFields[.contentSecurityPolicy] = AuthPages.contentSecurityPolicy()
        return response
    }
}
