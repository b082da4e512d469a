import Foundation
import HTTPTypes

/// Sign-in with an email address and a password, with sign-up, email verification and password reset, on
/// ``PasswordAccounts``. Mount it under the same name as ``PasswordAccounts/Configuration/provider`` (`password`).
///
/// Routes under ``AuthHandler``'s prefix (every `POST` needs the CSRF token and a same-origin request):
/// - `POST /callback/{name}` (and `POST /signin/{name}`, Auth.js's credentials sign-in): `email`, `password`;
/// - `GET|POST /{name}/signup`: `email`, `password`, `name`; the answer is the same for a new and a known address,
///   and the message (a verification, or a notice to the owner) is delivered in the background;
/// - `GET|POST /{name}/verify`: the verification link (`email`, `token`) or the code form (`email`, `code`);
///   `POST /{name}/resend` sends a new verification;
/// - `GET|POST /{name}/forgot` and `GET|POST /{name}/reset`: the reset request, and the link's new-password form;
///   a reset ends every session of the user;
/// - `GET|POST /{name}/two-factor`: with ``SecondFactors``, a user who enrolled one gets no session for the password
///   alone but a sealed, single-use, five-minute challenge cookie, and this step's code (authenticator app or
///   recovery code) completes the sign-in.
///
/// Browsers get pages and redirects (a failed form comes back with `?error=CODE`); API clients get JSON.
public struct PasswordProvider: AuthProvider {
    /// What the provider asks the app to deliver, by email.
    public enum Message: Sendable {
        /// A new address's verification: a link and a code, either works once.
        case verifyEmail(to: String, link: String, code: String)
        /// Someone tried to sign up with an address that has an account: tell its owner (with the reset page).
        case addressInUse(to: String, signInURL: String, forgotURL: String)
        /// A password reset link.
        case resetPassword(to: String, link: String)
    }

    public let type = "credentials"
    public let displayName: String
    /// The accounts.
    public let passwords: PasswordAccounts
    /// The second factor asked for after a correct password, when the user enrolled one (`nil`: never asked).
    public let secondFactors: SecondFactors?
    /// Passkeys as a second factor: a user with a passkey who signs in with the password is asked for it (or for
    /// an authenticator app's code, when they have both).
    public let passkeys: Passkeys?
    /// Whether messages are delivered after the response (default `true`), so that delivery's timing does not tell
    /// known addresses from unknown ones.
    public let deliversInBackground: Bool
    private let deliver: @Sendable (Message) async throws -> Void

    /// Creates the provider.
    ///
    /// - Parameters:
    ///   - displayName: A name for people (default `Password`).
    ///   - passwords: The password accounts.
    ///   - secondFactors: The second factor, for users who enrolled one (default none).
    ///   - passkeys: Passkeys, asked for as a second factor from users who have one (default none).
    ///   - deliversInBackground: Whether messages are delivered after the response.
    ///   - deliver: Sends a message, for example by email.
    public init(
        displayName: String = "Password", passwords: PasswordAccounts, secondFactors: SecondFactors? = nil, passkeys: Passkeys? = nil, deliversInBackground: Bool = true,
        deliver: @escaping @Sendable (Message) async throws -> Void
    ) {
        self.displayName = displayName
        self.passwords = passwords
        self.secondFactors = secondFactors
        self.passkeys = passkeys
        self.deliversInBackground = deliversInBackground
        self.deliver = deliver
    }

    public var submitsForms: Bool { true }

    // MARK: Sign-in

    /// `GET`: the provider's own sign-in page (the handler's sign-in page shows the same form).
    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        guard request.head.method == .get || request.head.method == .head else { throw AuthError.methodNotAllowed }
        return context.csrf.responding(to: request.head) { token in
            context.pages.passwordSignIn(
                name: context.provider, displayName: displayName, csrfToken: token,
                callbackURL: request.query["callbackUrl"].flatMap(context.configuration.redirectPolicy.allowed), error: request.query["error"],
                message: nil, configuration: context.configuration)
        }
    }

    /// `POST`: checks the address and password.
    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        guard request.head.method == .post else { throw AuthError.methodNotAllowed }
        do {
            return try await signIn(request, context: context)
        } catch let refused as FormRefused {
            return .respond(refused.response)
        }
    }

    private func signIn(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        let form = request.formOrJSON
        let user = try await answeringForms(request, context, page: "signin") {
            try await passwords.signIn(email: form["email"] ?? "", password: form["password"] ?? "", client: request.clientAddress)
        }
        let returnTo = form["callbackUrl"].flatMap(context.configuration.redirectPolicy.allowed)
        if try await answeringForms(request, context, page: "signin", { try await secondFactorsOf(user.id).any }) {
            // The password was right; the session waits for the second factor.
            let challenge = SecondFactorChallenge(userID: user.id, returnTo: returnTo, now: Date())
            let cookie = SecondFactorChallenge.cookie(baseURL: context.configuration.baseURL)
            let target = context.configuration.url("/\(context.provider)/two-factor")
            var response: AuthResponse = request.isBrowserNavigation
                ? .redirect(to: target, status: .seeOther) : .json(["twoFactorRequired": true, "url": .string(target)])
            response.head.headerFields.append(HTTPField(name: .setCookie, value: cookie.setCookie(try challenge.sealed(keys: context.keys), maxAge: Int(SecondFactorChallenge.lifetime))))
            return .respond(response)
        }
        return .signedIn(ProviderIdentity(user: user, methods: ["pwd"], returnTo: returnTo))
    }

    /// Which second factors a user has: an authenticator app, passkeys.
    private func secondFactorsOf(_ userID: String) async throws -> (totp: Bool, passkey: Bool, any: Bool) {
        let totp = try await secondFactors?.isEnrolled(userID: userID) ?? false
        let passkey = try await passkeys?.hasPasskey(userID: userID) ?? false
        return (totp, passkey, totp || passkey)
    }

    /// The second factor's step: the code form, and its check.
    private func twoFactor(_ request: AuthRequest, context: AuthContext, isRead: Bool, passkeyOptions: Bool = false) async throws -> ProviderResult {
        let cookie = SecondFactorChallenge.cookie(baseURL: context.configuration.baseURL)
        let challenge = try await answeringForms(request, context, page: "signin") { () throws -> SecondFactorChallenge in
            guard let value = request.cookie(named: cookie.effectiveName), let challenge = SecondFactorChallenge.open(value, keys: context.keys, now: Date()) else {
                throw AuthError.challengeExpired
            }
            return challenge
        }
        if isRead {
            let factors = try await answeringForms(request, context, page: "signin") { try await secondFactorsOf(challenge.userID) }
            return .respond(context.csrf.responding(to: request.head) { token in
                var response = context.pages.twoFactorChallenge(
                    name: context.provider, csrfToken: token, error: request.query["error"], offersCode: factors.totp, offersPasskey: factors.passkey,
                    configuration: context.configuration)
                if factors.passkey { response.head.headerFields[.contentSecurityPolicy] = AuthPages.contentSecurityPolicyWithScripts(configuration: context.configuration) }
                return response
            })
        }
        if passkeyOptions {
            // The options of the passkey ceremony for the user who passed the password (the challenge is not spent).
            guard let passkeys else { throw AuthError.notFound }
            return .respond(try await passkeys.authenticationOptions(userID: challenge.userID).response)
        }
        // Codes count against the client's limit too (the user's own limit is in `SecondFactors`).
        if let client = request.clientAddress {
            try await answeringForms(request, context, page: "two-factor") { try await passwords.configuration.perClient.take("password-client:" + RateLimitKey.client(client)) }
        }
        // Each challenge is good for one attempt: redeemed before the code is checked, so a replayed challenge
        // spends nobody's code; a wrong code gets a fresh challenge (same user, same deadline) for the next try.
        let fresh: Bool
        do {
            fresh = try await context.configuration.metrics.measure(context.flowReplay, "consume", tracer: context.configuration.tracer) {
                try await context.flowReplay.consume("2fa:" + challenge.id, expiresAt: Date(timeIntervalSince1970: Double(challenge.expiresAt)))
            }
        } catch {
            throw AuthError.unavailable.with(detail: "the sign-in cannot be completed right now")
        }
        guard fresh else { return try await answeringForms(request, context, page: "signin") { throw AuthError.challengeExpired } }
        let method: String
        do {
            if let passkeys, request.formOrJSON["action"] == "authenticate" {
                _ = try await passkeys.authenticate(request, secondFactorFor: challenge.userID)
                method = "hwk"
            } else {
                guard let secondFactors else { throw AuthError.invalidCode }
                method = try await secondFactors.verify(userID: challenge.userID, code: request.formOrJSON["code"] ?? "") == .recoveryCode ? "rec" : "otp"
            }
        } catch var error as AuthError {
            await context.countFailedSignIn(error, userID: challenge.userID)
            let renewed = HTTPField(name: .setCookie, value: cookie.setCookie(try challenge.renewed().sealed(keys: context.keys), maxAge: Int(SecondFactorChallenge.lifetime)))
            if request.isBrowserNavigation, error.status.code < 500, error.status != .tooManyRequests {
                context.logger.info("Second factor refused", metadata: ["error": .string(error.code)])
                context.countRefusal(error)
                var response = AuthResponse.redirect(
                    to: URLEncodedForm.appending(name: "error", value: error.code, to: context.configuration.url("/\(context.provider)/two-factor")), status: .seeOther)
                response.head.headerFields.append(renewed)
                return .respond(response)
            }
            error.responseFields.append(renewed)
            throw error
        }
        let user = try await answeringForms(request, context, page: "signin") { () async throws -> AuthUser in
            let user: AuthUser?
            do { user = try await passwords.store.user(id: challenge.userID) } catch { throw AuthError.unavailable.with(detail: "the account store cannot be reached") }
            guard let user else { throw AuthError.challengeExpired }
            return user
        }
        var identity = ProviderIdentity(user: user, methods: ["pwd", method], returnTo: challenge.returnTo)
        identity.responseFields.append(HTTPField(name: .setCookie, value: cookie.clearCookie()))
        if method == "hwk" { identity.responseFields.append(HTTPField(name: .setCookie, value: PasskeyChallenge.cookie(baseURL: context.configuration.baseURL).clearCookie())) }
        return .signedIn(identity)
    }

    // MARK: Steps

    public func step(_ step: String, request: AuthRequest, context: AuthContext) async throws -> ProviderResult? {
        do {
            return try await answer(step, request: request, context: context)
        } catch let refused as FormRefused {
            return .respond(refused.response)
        }
    }

    private func answer(_ step: String, request: AuthRequest, context: AuthContext) async throws -> ProviderResult? {
        let method = request.head.method
        let isRead = method == .get || method == .head
        guard isRead || method == .post else { throw AuthError.methodNotAllowed }
        let form = request.formOrJSON
        let configuration = context.configuration
        switch (step, isRead) {
        case ("two-factor", _):
            guard secondFactors != nil || passkeys != nil else { return nil }
            return try await twoFactor(request, context: context, isRead: isRead)
        case ("two-factor-options", false):
            guard passkeys != nil else { return nil }
            return try await twoFactor(request, context: context, isRead: false, passkeyOptions: true)
        case ("signup", true):
            return .respond(context.csrf.responding(to: request.head) { token in
                context.pages.passwordSignUp(
                    name: context.provider, csrfToken: token, minimumLength: passwords.configuration.policy.minimumLength, error: request.query["error"],
                    configuration: configuration)
            })
        case ("signup", false):
            let email = form["email"] ?? ""
            let outcome = try await answeringForms(request, context, page: "signup") {
                try await passwords.signUp(email: email, password: form["password"] ?? "", name: form["name"], client: request.clientAddress)
            }
            switch outcome {
            case .created(_, let verification):
                await send(.verifyEmail(to: verification.email, link: verifyLink(verification, context), code: verification.code), context)
            case .addressInUse(let user):
                await send(.addressInUse(to: user.email ?? email, signInURL: configuration.url("/signin"), forgotURL: configuration.url("/\(context.provider)/forgot")), context)
            }
            return .respond(sent(request, context, to: "/\(context.provider)/verify", email: EmailAddress.normalized(email)))
        case ("verify", true):
            if let email = request.query["email"], let token = request.query["token"] {
                _ = try await answeringForms(request, context, page: "verify") { try await passwords.verifyEmail(email, token: token) }
                return .respond(done(request, context, message: "verified"))
            }
            return .respond(context.csrf.responding(to: request.head) { token in
                context.pages.passwordVerify(
                    name: context.provider, csrfToken: token, email: request.query["email"], error: request.query["error"], configuration: configuration)
            })
        case ("verify", false):
            _ = try await answeringForms(request, context, page: "verify", email: form["email"]) {
                try await passwords.verifyEmail(form["email"] ?? "", code: form["code"] ?? "")
            }
            return .respond(done(request, context, message: "verified"))
        case ("resend", false):
            let email = try await answeringForms(request, context, page: "verify", email: form["email"]) {
                try await passwords.admit(email: form["email"] ?? "", client: request.clientAddress, action: "verify-request")
            }
            // Whether the address has an unverified user is decided (and written) after the answer by default.
            await context.afterAnswering(inBackground: deliversInBackground, failure: "A password message could not be prepared or delivered") {
                if let verification = try await passwords.issueVerificationIfUnverified(email: email) {
                    try await deliver(.verifyEmail(to: verification.email, link: verifyLink(verification, context), code: verification.code))
                }
            }
            return .respond(sent(request, context, to: "/\(context.provider)/verify", email: email))
        case ("forgot", true):
            return .respond(context.csrf.responding(to: request.head) { token in
                context.pages.passwordForgot(name: context.provider, csrfToken: token, error: request.query["error"], sent: request.query["sent"] == "1", configuration: configuration)
            })
        case ("forgot", false):
            let email = try await answeringForms(request, context, page: "forgot") {
                try await passwords.admit(email: form["email"] ?? "", client: request.clientAddress, action: "reset")
            }
            // Whether the address has a user is decided (and the token written) after the answer by default: a known
            // address's answer takes no longer than an unknown one's.
            await context.afterAnswering(inBackground: deliversInBackground, failure: "A password message could not be prepared or delivered") {
                if let reset = try await passwords.issueReset(email: email), let to = reset.user.email {
                    let link = URLEncodedForm.appending(name: "token", value: reset.token,
                        to: URLEncodedForm.appending(name: "user", value: reset.user.id, to: configuration.url("/\(context.provider)/reset")))
                    try await deliver(.resetPassword(to: to, link: link))
                }
            }
            guard request.isBrowserNavigation else { return .respond(.json(["ok": true])) }
            return .respond(.redirect(to: configuration.url("/\(context.provider)/forgot?sent=1"), status: .seeOther))
        case ("reset", true):
            let userID = request.query["user"] ?? "", token = request.query["token"] ?? ""
            guard passwords.isWellFormedResetLink(userID: userID, token: token) else { throw AuthError.invalidVerification }
            return .respond(context.csrf.responding(to: request.head) { csrf in
                context.pages.passwordReset(
                    name: context.provider, csrfToken: csrf, userID: userID, token: token, minimumLength: passwords.configuration.policy.minimumLength,
                    error: request.query["error"], configuration: configuration)
            })
        case ("reset", false):
            let userID = form["user"] ?? "", token = form["token"] ?? ""
            let user = try await answeringForms(request, context, page: "reset", resetLink: (userID, token)) {
                try await passwords.reset(userID: userID, token: token, password: form["password"] ?? "", client: request.clientAddress)
            }
            do {
                try await context.endSessions?(user)
            } catch {
                // The password is changed; the old sessions could not all be ended: say so rather than pretend.
                throw AuthError.revocationUnavailable.with(detail: "the password was changed, but other sessions could not be signed out; try signing out everywhere")
            }
            return .respond(done(request, context, message: "reset"))
        default:
            return nil
        }
    }

    // MARK: Answers

    /// Runs a form's work; a browser whose form was refused goes back to the form with `?error=CODE` (rate limits
    /// and outages keep their own answers).
    private func answeringForms<Value>(
        _ request: AuthRequest, _ context: AuthContext, page: String, email: String? = nil, resetLink: (String, String)? = nil,
        _ work: () async throws -> Value
    ) async throws -> Value {
        do {
            return try await work()
        } catch let error as AuthError where request.isBrowserNavigation && error.status.code < 500 && error.status != .tooManyRequests {
            var target = page == "signin" ? context.configuration.url("/signin") : context.configuration.url("/\(context.provider)/\(page)")
            if let email, let normalized = EmailAddress.normalized(email) { target = URLEncodedForm.appending(name: "email", value: normalized, to: target) }
            if let (user, token) = resetLink {
                target = URLEncodedForm.appending(name: "token", value: token, to: URLEncodedForm.appending(name: "user", value: user, to: target))
            }
            context.logger.info("Password form refused", metadata: ["error": .string(error.code), "detail": .string(error.detail ?? error.code)])
            context.countRefusal(error)
            if page == "signin" { await context.countFailedSignIn(error) }
            throw FormRefused(response: .redirect(to: URLEncodedForm.appending(name: "error", value: error.code, to: target), status: .seeOther))
        }
    }

    /// A browser's form that was refused: the answer is a redirect back to the form.
    private struct FormRefused: Error {
        let response: AuthResponse
    }

    /// The answer to a request that may have sent a message: the same whatever was sent.
    private func sent(_ request: AuthRequest, _ context: AuthContext, to path: String, email: String?) -> AuthResponse {
        guard request.isBrowserNavigation else { return .json(["ok": true]) }
        let target = context.configuration.url(path)
        return .redirect(to: email.map { URLEncodedForm.appending(name: "email", value: $0, to: target) } ?? target, status: .seeOther)
    }

    /// The answer to a completed verification or reset: browsers go to sign in.
    private func done(_ request: AuthRequest, _ context: AuthContext, message: String) -> AuthResponse {
        guard request.isBrowserNavigation else { return .json(["ok": true, message: true]) }
        return .redirect(to: URLEncodedForm.appending(name: message, value: "1", to: context.configuration.url("/signin")), status: .seeOther)
    }

    private func verifyLink(_ verification: PasswordAccounts.EmailVerification, _ context: AuthContext) -> String {
        URLEncodedForm.appending(name: "token", value: verification.token,
            to: URLEncodedForm.appending(name: "email", value: verification.email, to: context.configuration.url("/\(context.provider)/verify")))
    }

    /// Delivers a message, after the response by default; a failure is logged, never shown (it would tell which
    /// addresses are known).
    private func send(_ message: Message, _ context: AuthContext) async {
        let deliver = deliver
        await context.afterAnswering(inBackground: deliversInBackground, failure: "A password message could not be prepared or delivered") { try await deliver(message) }
    }
}
