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
            <p>Or type this key into the app: <code id="totp-secret">\(HTML.escape(grouped))</code></p>
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
}
