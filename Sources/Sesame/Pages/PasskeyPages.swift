import HTTPTypes

/// The passkey parts of the built-in pages: the sign-in button (and autofill), the passkey-first sign-up, and
/// the second-factor button. They need the handler's script (`{prefix}/passkey.js`); the page's policy allows
/// scripts of this origin and nothing inline.
extension AuthPages {
    /// The strict policy with the passkey script (that one file, by its absolute URL) and requests to this origin
    /// allowed.
    static func contentSecurityPolicyWithScripts(formActions: [String] = [], configuration: AuthConfiguration?) -> String {
        // A source expression with a path matches that file alone; without the configuration, this origin's scripts.
        let script = configuration.map { $0.url("/passkey.js") }.flatMap { url in url.contains(where: { ";, '".contains($0) }) ? nil : url } ?? "'self'"
        return contentSecurityPolicy(formActions: formActions) + "; script-src \(script); connect-src 'self'"
    }

    /// The tag of the handler's passkey script (`{prefix}/passkey.js`).
    static func passkeyScript(configuration: AuthConfiguration) -> String {
        "<script src=\"\(HTML.escape(configuration.url("/passkey.js")))\" defer></script>"
    }

    /// The sign-in page's passkey part: a button, and the element that shows a refusal.
    static func passkeySignIn(name: String, csrfToken: String, callbackURL: String?, withUsernameField: Bool, configuration: AuthConfiguration) -> String {
        var html = "<div class=\"provider\" id=\"passkey-\(HTML.escape(name))\">"
        if withUsernameField {
            // The field autofill offers the site's passkeys in; a passkey needs no address typed.
            html += """
                <label for="passkey-username">Email address</label>
                <input id="passkey-username" name="username" type="email" autocomplete="username webauthn">
                """
        }
        html += """
            <form class="provider"><button type="button" id="passkey-signin" data-passkey="signin" data-options="\(HTML.escape(configuration.url("/webauthn-options/\(name)")))" \
            data-verify="\(HTML.escape(configuration.url("/callback/\(name)")))" data-csrf="\(HTML.escape(csrfToken))"\
            \(callbackURL.map { " data-callback-url=\"\(HTML.escape($0))\"" } ?? "")>Sign in with a passkey</button></form>
            <p id="passkey-error" class="error" role="alert" hidden></p>
            <p><a href="\(HTML.escape(configuration.url("/\(name)/signup")))">Create an account with a passkey</a></p>
            </div>
            """
        return html
    }

    /// The passkey-first sign-up: the address and name, then the emailed code and the passkey prompt.
    func passkeySignUp(name: String, csrfToken: String, email: String?, codeSent: Bool, error: String?, configuration: AuthConfiguration) -> AuthResponse {
        var body = header("Create an account with a passkey") + Self.notice(error: error)
        if codeSent, let email {
            body += """
                <p role="status">If <strong>\(HTML.escape(email))</strong> can be used, we sent it an 8-digit code. It works once, for 15 minutes.</p>
                <form class="provider" id="passkey-signup" data-passkey="signup" data-options="\(HTML.escape(configuration.url("/\(name)/signup-options")))" \
                data-verify="\(HTML.escape(configuration.url("/callback/\(name)")))" data-csrf="\(HTML.escape(csrfToken))">
                <input type="hidden" name="email" value="\(HTML.escape(email))">
                <label for="name">Name (optional)</label>
                <input id="name" name="name" type="text" autocomplete="name" maxlength="200">
                <label for="code">Code</label>
                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required autofocus>
                <button type="submit">Create a passkey</button>
                </form>
                <p id="passkey-error" class="error" role="alert" hidden></p>
                <p><a href="\(HTML.escape(configuration.url("/\(name)/signup")))">Use another address</a></p>
                """
        } else {
            body += """
                <p>No password: your device's passkey (fingerprint, face or screen lock) signs you in. First, a code to your address proves it is yours.</p>
                <form method="post" action="\(HTML.escape(configuration.url("/\(name)/signup")))" class="provider">\(Self.hiddenFields(csrfToken: csrfToken))
                <label for="email">Email address</label>
                <input id="email" name="email" type="email" autocomplete="email" required autofocus>
                <button type="submit">Email me a code</button>
                </form>
                """
        }
        body += "<p><a href=\"\(HTML.escape(configuration.url("/signin")))\">I have an account</a></p>" + Self.passkeyScript(configuration: configuration)
        var response = page("Create an account with a passkey", body)
        response.head.headerFields[.contentSecurityPolicy] = Self.contentSecurityPolicyWithScripts(configuration: configuration)
        return response
    }

    /// The second factor's passkey button, on the two-step page.
    static func passkeySecondFactor(optionsURL: String, verifyURL: String, csrfToken: String) -> String {
        """
        <form class="provider"><button type="button" id="passkey-second-factor" data-passkey="second-factor" data-options="\(HTML.escape(optionsURL))" \
        data-verify="\(HTML.escape(verifyURL))" data-csrf="\(HTML.escape(csrfToken))">Use a passkey</button></form>
        <p id="passkey-error" class="error" role="alert" hidden></p>
        """
    }

    /// The account page's passkeys: each with its name, when it was added and last used, rename and remove forms;
    /// then the button that adds one.
    static func passkeyList(_ passkeys: [PasskeyAuthenticator], url: String, hidden: String, csrfToken: String?, configuration: AuthConfiguration?) -> String {
        let rows = passkeys.map { passkey in
            let id = HTML.escape(passkey.id)
            let name = passkey.name ?? "Passkey"
            var facts = ["added \(passkey.createdAt.formatted(.iso8601))"]
            facts.append(passkey.lastUsedAt.map { "last used \($0.formatted(.iso8601))" } ?? "never used")
            if passkey.backedUp { facts.append("synced") }
            if passkey.flaggedAt != nil { facts.append("blocked: its counter went backwards, so it may have been copied") }
            return """
                <li class="passkey"><strong class="passkey-name">\(HTML.escape(name))</strong> (\(HTML.escape(facts.joined(separator: ", "))))
                <form method="post" action="\(HTML.escape(url))/rename" class="inline">\(hidden)<input type="hidden" name="id" value="\(id)">
                <label for="rename-\(id)">New name</label> <input id="rename-\(id)" name="name" type="text" maxlength="64" required> <button type="submit">Rename</button></form>
                <form method="post" action="\(HTML.escape(url))/delete" class="inline">\(hidden)<input type="hidden" name="id" value="\(id)">
                <button type="submit" class="danger">Remove</button></form></li>
                """
        }.joined(separator: "\n")
        let script = configuration.map(passkeyScript(configuration:)) ?? "<script src=\"/auth/passkey.js\" defer></script>"
        return """
            <h2>Passkeys</h2>
            <p>\(passkeys.isEmpty ? "No passkeys yet. A passkey signs you in with your device's fingerprint, face or screen lock, and cannot be phished." : "Sign in with any of these; the last way to sign in cannot be removed.")</p>
            <ul id="passkeys">\(rows)</ul>
            <form class="provider" id="add-passkey-form"><label for="passkey-name">Name for the new passkey (optional)</label>
            <input id="passkey-name" name="passkeyName" type="text" maxlength="64">
            <button type="button" id="add-passkey" data-passkey="register" data-options="\(HTML.escape(url))/options" data-verify="\(HTML.escape(url))"\(csrfToken.map { " data-csrf=\"\(HTML.escape($0))\"" } ?? "")>Add a passkey</button></form>
            <p id="passkey-error" class="error" role="alert" hidden></p>
            \(script)
            """
    }
}
