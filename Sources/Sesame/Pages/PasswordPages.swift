/// The pages of a ``PasswordProvider``: sign-in, sign-up, verify email, forgot and reset password. Forms only,
/// no JavaScript, drawn by the same renderer as every other page.
extension AuthPages {
    /// The fields every form posts: the CSRF token and, when there is one, where to go after.
    static func hiddenFields(csrfToken: String, callbackURL: String? = nil) -> String {
        "<input type=\"hidden\" name=\"csrfToken\" value=\"\(HTML.escape(csrfToken))\">"
            + (callbackURL.map { "<input type=\"hidden\" name=\"callbackUrl\" value=\"\(HTML.escape($0))\">" } ?? "")
    }

    /// A notice or an error above a form.
    static func notice(error: String?, message: String? = nil) -> String {
        var html = ""
        if let error { html += "<p class=\"error\" role=\"alert\">\(HTML.escape(ErrorMessages.text[error] ?? "That did not work. Try again."))</p>" }
        if let message { html += "<p role=\"status\">\(HTML.escape(message))</p>" }
        return html
    }

    /// The email-and-password form of a password provider, on the sign-in page and its own.
    static func passwordSignInForm(name: String, displayName: String, hidden: String, offersPasskeys: Bool = false, configuration: AuthConfiguration) -> String {
        let id = HTML.escape(name)
        return """
            <form method="post" action="\(HTML.escape(configuration.url("/callback/\(name)")))" class="provider">\(hidden)
            <label for="email-\(id)">Email address</label>
            <input id="email-\(id)" name="email" type="email" autocomplete="\(offersPasskeys ? "username webauthn" : "username")" required>
            <label for="password-\(id)">Password</label>
            <input id="password-\(id)" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">Sign in</button>
            </form>
            <p><a href="\(HTML.escape(configuration.url("/\(name)/forgot")))">Forgot your password?</a> ·
            <a href="\(HTML.escape(configuration.url("/\(name)/signup")))">Create an account</a></p>
            """
    }

    /// A password provider's sign-in page.
    func passwordSignIn(name: String, displayName: String, csrfToken: String, callbackURL: String?, error: String?, message: String?, configuration: AuthConfiguration) -> AuthResponse {
        page(signInTitle, header(signInTitle) + Self.notice(error: error, message: message)
            + Self.passwordSignInForm(name: name, displayName: displayName, hidden: Self.hiddenFields(csrfToken: csrfToken, callbackURL: callbackURL), configuration: configuration))
    }

    /// The sign-up page.
    func passwordSignUp(name: String, csrfToken: String, minimumLength: Int, error: String?, configuration: AuthConfiguration) -> AuthResponse {
        page("Create an account", header("Create an account") + Self.notice(error: error) + """
            <form method="post" action="\(HTML.escape(configuration.url("/\(name)/signup")))" class="provider">\(Self.hiddenFields(csrfToken: csrfToken))
            <label for="name">Name (optional)</label>
            <input id="name" name="name" type="text" autocomplete="name" maxlength="200">
            <label for="email">Email address</label>
            <input id="email" name="email" type="email" autocomplete="email" required>
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="\(minimumLength)" required aria-describedby="password-help">
            <p id="password-help" class="muted">At least \(minimumLength) characters. A few unrelated words make a strong one.</p>
            <button type="submit">Create account</button>
            </form>
            <p><a href="\(HTML.escape(configuration.url("/signin")))">I have an account</a></p>
            """)
    }

    /// The verify-email page: the code form (the link in the email works too).
    func passwordVerify(name: String, csrfToken: String, email: String?, error: String?, configuration: AuthConfiguration) -> AuthResponse {
        page("Verify your email", header("Verify your email") + Self.notice(error: error) + """
            <p>If the address can be used, we sent it a link and an 8-digit code. Open the link, or enter the code here. Both work once, for 15 minutes.</p>
            <form method="post" action="\(HTML.escape(configuration.url("/\(name)/verify")))" class="provider">\(Self.hiddenFields(csrfToken: csrfToken))
            <label for="email">Email address</label>
            <input id="email" name="email" type="email" autocomplete="email" required value="\(HTML.escape(email ?? ""))">
            <label for="code">Code</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 -]{8,10}" required>
            <button type="submit">Verify</button>
            </form>
            <form method="post" action="\(HTML.escape(configuration.url("/\(name)/resend")))">\(Self.hiddenFields(csrfToken: csrfToken))
            <input type="hidden" name="email" value="\(HTML.escape(email ?? ""))">
            <button type="submit">Send a new code</button>
            </form>
            """)
    }

    /// The forgot-password page.
    func passwordForgot(name: String, csrfToken: String, error: String?, sent: Bool, configuration: AuthConfiguration) -> AuthResponse {
        let message = sent ? "If an account uses that address, we sent it a link to choose a new password. It works once, for an hour." : nil
        return page("Forgot your password?", header("Forgot your password?") + Self.notice(error: error, message: message) + """
            <form method="post" action="\(HTML.escape(configuration.url("/\(name)/forgot")))" class="provider">\(Self.hiddenFields(csrfToken: csrfToken))
            <label for="email">Email address</label>
            <input id="email" name="email" type="email" autocomplete="email" required>
            <button type="submit">Send me a link</button>
            </form>
            <p><a href="\(HTML.escape(configuration.url("/signin")))">Back to sign-in</a></p>
            """)
    }

    /// The choose-a-new-password page a reset link opens.
    func passwordReset(name: String, csrfToken: String, userID: String, token: String, minimumLength: Int, error: String?, configuration: AuthConfiguration) -> AuthResponse {
        page("Choose a new password", header("Choose a new password") + Self.notice(error: error) + """
            <form method="post" action="\(HTML.escape(configuration.url("/\(name)/reset")))" class="provider">\(Self.hiddenFields(csrfToken: csrfToken))
            <input type="hidden" name="user" value="\(HTML.escape(userID))">
            <input type="hidden" name="token" value="\(HTML.escape(token))">
            <label for="password">New password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="\(minimumLength)" required>
            <button type="submit">Set password</button>
            </form>
            <p class="muted">Every device signed in to your account will be signed out.</p>
            """)
    }

    /// The second-factor step: a code from the authenticator app, or a recovery code; a passkey for users who have one.
    func twoFactorChallenge(
        name: String, csrfToken: String, error: String?, offersCode: Bool = true, offersPasskey: Bool = false, configuration: AuthConfiguration
    ) -> AuthResponse {
        var body = header("Two-step verification") + Self.notice(error: error)
        if offersPasskey {
            body += "<p>Use your passkey to finish signing in.</p>" + Self.passkeySecondFactor(
                optionsURL: configuration.url("/\(name)/two-factor-options"), verifyURL: configuration.url("/\(name)/two-factor"), csrfToken: csrfToken)
        }
        if offersCode {
            body += """
                <p>\(offersPasskey ? "Or enter the 6-digit code your authenticator app shows, or one of your recovery codes." : "Enter the 6-digit code your authenticator app shows, or one of your recovery codes.")</p>
                <form method="post" action="\(HTML.escape(configuration.url("/\(name)/two-factor")))" class="provider">\(Self.hiddenFields(csrfToken: csrfToken))
                <label for="code">Code</label>
                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="24" required\(offersPasskey ? "" : " autofocus")>
                <button type="submit">Verify</button>
                </form>
                """
        }
        body += "<p><a href=\"\(HTML.escape(configuration.url("/signin")))\">Start again</a></p>"
        if offersPasskey { body += Self.passkeyScript(configuration: configuration) }
        return page("Two-step verification", body)
    }
}
