/// The second factor's management pages: enrolment with the QR code, and a new set of recovery codes. Apps serve
/// them from their own signed-in routes (behind ``SessionRequirement`` with a recent sign-in) and post the forms
/// back to themselves.
extension AuthPages {
    /// The enrolment page: the QR code of the pending secret, the secret as text, and the form that confirms it
    /// with a first code.
    ///
    /// - Parameters:
    ///   - pending: The pending enrolment (``SecondFactors/beginEnrolment(userID:account:)``).
    ///   - action: Where the form posts (`secret`, `code`, and `csrfToken` when given).
    ///   - csrfToken: A CSRF token for the app's own check, if it uses one.
    ///   - error: An error code to explain above the form.
    /// - Returns: The page.
    public func twoFactorSetup(_ pending: SecondFactors.PendingEnrolment, action: String, csrfToken: String? = nil, error: String? = nil) -> AuthResponse {
        let grouped = stride(from: 0, to: pending.secretText.count, by: 4).map { start -> Substring in
            let from = pending.secretText.index(pending.secretText.startIndex, offsetBy: start)
            return pending.secretText[from..<pending.secretText.index(from, offsetBy: min(4, pending.secretText.count - start))]
        }.joined(separator: " ")
        return page("Set up two-step verification", header("Set up two-step verification") + Self.notice(error: error) + """
            <p>Scan this code with your authenticator app, then enter the 6-digit code it shows.</p>
            <figure class="qr" role="img" aria-label="QR code of your authenticator secret">\(pending.qrSVG)</figure>
            <p>Or type this key into the app: <code id="totp-secret">\(HTML.escape(grouped))</code>, or, on this device,
            open <a id="totp-uri" href="\(HTML.escape(pending.uri))">the setup link</a>.</p>
            <form method="post" action="\(HTML.escape(action))" class="provider">
            \(csrfToken.map { "<input type=\"hidden\" name=\"csrfToken\" value=\"\(HTML.escape($0))\">" } ?? "")
            <input type="hidden" name="secret" value="\(HTML.escape(pending.sealedSecret))">
            <label for="code">Code from the app</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
            <button type="submit">Turn on</button>
            </form>
            """)
    }

    /// The recovery codes, shown once.
    ///
    /// - Parameters:
    ///   - codes: The new codes.
    ///   - continueURL: Where the "Done" link leads.
    /// - Returns: The page.
    public func recoveryCodes(_ codes: [String], continueURL: String) -> AuthResponse {
        page("Your recovery codes", header("Your recovery codes") + """
            <p>Keep these somewhere safe. Each one signs you in once if you lose your authenticator app. They are shown only now; making new ones voids these.</p>
            <ul id="recovery-codes">\(codes.map { "<li><code>\(HTML.escape($0))</code></li>" }.joined())</ul>
            <p><a href="\(HTML.escape(continueURL))">Done</a></p>
            """)
    }

    /// An account's security page: the password form (set, or change with the current one), and the second factor's
    /// state with a link to manage it. The app serves it from a signed-in route and posts the form to itself.
    ///
    /// - Parameters:
    ///   - email: The signed-in user's address, shown.
    ///   - hasPassword: Whether the user has a password (the form then asks for the current one).
    ///   - recoveryCodesLeft: With an enrolled authenticator app, how many recovery codes are left; `nil` without one.
    ///   - passwordAction: Where the password form posts (`current`, `new`, and `csrfToken` when given).
    ///   - twoFactorURL: The page that manages the second factor.
    ///   - csrfToken: A CSRF token for the app's own check, if it uses one.
    ///   - notice: A message to show above the forms.
    ///   - passkeys: The user's passkeys, to list with rename and remove forms and an "add a passkey" button; `nil`
    ///     (default) leaves passkeys out.
    ///   - passkeysURL: The app's passkey routes: `POST {url}/options` answers a new passkey's options,
    ///     `POST {url}` takes the credential (JSON), `POST {url}/rename` and `POST {url}/delete` take `id` (base64url)
    ///     and `name`.
    ///   - configuration: The handler's configuration, for the passkey script's URL and the page's policy (default: the default prefix).
    /// - Returns: The page.
    public func accountSecurity(
        email: String, hasPassword: Bool, recoveryCodesLeft: Int?, passwordAction: String, twoFactorURL: String, csrfToken: String? = nil, notice: String? = nil,
        passkeys: [PasskeyAuthenticator]? = nil, passkeysURL: String = "/account/passkeys", configuration: AuthConfiguration? = nil
    ) -> AuthResponse {
        let hidden = csrfToken.map { "<input type=\"hidden\" name=\"csrfToken\" value=\"\(HTML.escape($0))\">" } ?? ""
        let current = hasPassword ? """
            <label for="current-password">Current password</label>
            <input id="current-password" name="current" type="password" autocomplete="current-password" required>
            """ : ""
        let usablePasskeys = passkeys?.contains { $0.flaggedAt == nil } ?? false
        let twoFactor = recoveryCodesLeft.map { "On: sign-ins with your password ask for a code from your authenticator app\(usablePasskeys ? " or a passkey" : ""). \($0) recovery codes left." }
            ?? (usablePasskeys ? "On: sign-ins with your password ask for one of your passkeys. An authenticator app adds recovery codes."
                : "Off: add an authenticator app (or a passkey) so that a password alone cannot sign in.")
        return page("Security", header("Security") + (notice.map { "<p role=\"status\" class=\"notice\">\(HTML.escape($0))</p>" } ?? "") + """
            <p>Signed in as <strong>\(HTML.escape(email))</strong>.</p>
            <h2>Password</h2>
            <form method="post" action="\(HTML.escape(passwordAction))" class="provider" id="password-form">\(hidden)
            \(current)
            <label for="new-password">\(hasPassword ? "New password" : "Password")</label>
            <input id="new-password" name="new" type="password" autocomplete="new-password" minlength="8" required>
            <button type="submit">\(hasPassword ? "Change password" : "Set a password")</button>
            </form>
            <h2>Two-step verification</h2>
            <p id="two-factor-summary">\(HTML.escape(twoFactor))</p>
            <p><a id="two-factor" href="\(HTML.escape(twoFactorURL))">\(recoveryCodesLeft == nil ? "Set up an authenticator app" : "Manage two-step verification")</a></p>
            """ + (passkeys.map { Self.passkeyList($0, url: passkeysURL, hidden: hidden, csrfToken: csrfToken, configuration: configuration) } ?? ""),
            allowsScripts: passkeys != nil, configuration: configuration)
    }
}
