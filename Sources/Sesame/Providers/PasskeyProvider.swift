import Foundation
import HTTPTypes

/// Sign-in and sign-up with passkeys, on ``Passkeys``. Mount it under the name `passkey` (Auth.js's).
///
/// Routes under ``AuthHandler``'s prefix (every `POST` needs the CSRF token, `csrfToken`, and a same-origin request):
/// - `GET /webauthn-options/{name}?action=authenticate` (Auth.js's action; also `GET /{name}/options`): the options
///   of a discoverable sign-in, which browser autofill uses too, with the ceremony's sealed challenge cookie;
/// - `POST /callback/{name}` with `action` (`authenticate` or `register`) and `data` (`PublicKeyCredential.toJSON()`,
///   as an object or a string of JSON): a sign-in, or a new user's first passkey;
/// - `GET|POST /{name}/signup`: a new user's address and name; a code goes to the address (a notice to its owner when
///   it has an account, with the same answer), and `POST /{name}/signup-options` with `email`, `code` and `name`
///   answers the registration options for the new user.
///
/// The JavaScript the ceremonies need is served by the handler at `/passkey.js` (no dependencies, no inline script), and
/// the built-in sign-in page shows a passkey button and autofill when a passkey provider is mounted.
public struct PasskeyProvider: AuthProvider {
    /// What the provider asks the app to deliver, by email.
    public typealias Message = Passkeys.SignUpMessage

    public let type = "webauthn"
    public let displayName: String
    /// The passkeys.
    public let passkeys: Passkeys
    /// Whether sign-up messages are prepared and delivered after the response (default `true`), so that their
    /// timing does not tell known addresses from unknown ones.
    public let deliversInBackground: Bool
    private let deliver: @Sendable (Message) async throws -> Void

    /// Creates the provider.
    ///
    /// - Parameters:
    ///   - displayName: A name for people (default `Passkey`).
    ///   - passkeys: The passkeys.
    ///   - deliversInBackground: Whether messages are prepared and delivered after the response.
    ///   - deliver: Sends a sign-up code (or a notice to an address's owner), for example by email.
    public init(displayName: String = "Passkey", passkeys: Passkeys, deliversInBackground: Bool = true, deliver: @escaping @Sendable (Message) async throws -> Void) {
        self.displayName = displayName
        self.passkeys = passkeys
        self.deliversInBackground = deliversInBackground
        self.deliver = deliver
    }

    public var submitsForms: Bool { true }

    /// `GET`: the sign-in page (which offers passkeys).
    public func authorize(_ request: AuthRequest, context: AuthContext) async throws -> AuthResponse {
        guard request.head.method == .get || request.head.method == .head else { throw AuthError.methodNotAllowed }
        return .redirect(to: context.configuration.url("/signin"), status: .seeOther)
    }

    /// `POST`: a ceremony's response: a sign-in (`action=authenticate`) or a new user's passkey (`action=register`).
    public func callback(_ request: AuthRequest, context: AuthContext) async throws -> ProviderResult {
        guard request.head.method == .post else { throw AuthError.methodNotAllowed }
        var result: ProviderResult
        switch request.formOrJSON["action"] ?? "authenticate" {
        case "authenticate":
            let assertion = try await passkeys.authenticate(request)
            result = .signedIn(ProviderIdentity(user: assertion.user, methods: assertion.userVerified ? ["hwk", "user", "mfa"] : ["hwk", "user"], returnTo: assertion.returnTo))
        case "register":
            // Verified, not written: the handler's `signIn` callback decides first, then `Accounts.signIn` creates the
            // user with the passkey.
            let signUp = try await passkeys.verifySignUp(request)
            var signedUp = ProviderIdentity(user: signUp.user, methods: ["hwk", "user"], returnTo: nil)
            signedUp.passkeySignUp = signUp
            result = .signedIn(signedUp)
        default:
            throw AuthError.invalidRequest.with(detail: "action is authenticate or register")
        }
        if case .signedIn(var identity) = result {
            identity.responseFields.append(HTTPField(name: .setCookie, value: PasskeyChallenge.cookie(baseURL: context.configuration.baseURL).clearCookie()))
            result = .signedIn(identity)
        }
        return result
    }

    // MARK: Steps

    public func step(_ step: String, request: AuthRequest, context: AuthContext) async throws -> ProviderResult? {
        let method = request.head.method
        let isRead = method == .get || method == .head
        let configuration = context.configuration
        switch (step, isRead) {
        case ("options", true), ("webauthn-options", true):
            switch request.query["action"] ?? "authenticate" {
            case "authenticate":
                let returnTo = request.query["callbackUrl"].flatMap(configuration.redirectPolicy.allowed)
                return .respond(try await passkeys.authenticationOptions(returnTo: returnTo).response)
            case "register":
                // A sign-up's options come from its code (`POST signup-options`); this renews a pending one.
                return .respond(try await passkeys.signUpOptions(email: request.query["email"] ?? "", code: nil, name: nil, request: request).response)
            default:
                throw AuthError.invalidRequest.with(detail: "action is authenticate or register")
            }
        case ("signup", true):
            return .respond(context.csrf.responding(to: request.head) { token in
                context.pages.passkeySignUp(
                    name: context.provider, csrfToken: token, email: request.query["email"].flatMap(EmailAddress.normalized),
                    codeSent: request.query["sent"] == "1", error: request.query["error"], configuration: configuration)
            })
        case ("signup", false):
            let form = request.formOrJSON
            let normalized: String
            do {
                normalized = try await passkeys.admitSignUp(email: form["email"] ?? "", client: request.clientAddress)
            } catch let error as AuthError where request.isBrowserNavigation && error.status.code < 500 && error.status != .tooManyRequests {
                context.countRefusal(error)
                return .respond(.redirect(to: URLEncodedForm.appending(name: "error", value: error.code, to: configuration.url("/\(context.provider)/signup")), status: .seeOther))
            }
            await context.afterAnswering(inBackground: deliversInBackground, failure: "A passkey sign-up message could not be prepared or delivered") { [passkeys, deliver] in try await deliver(try await passkeys.signUpMessage(email: normalized)) }
            guard request.isBrowserNavigation else { return .respond(.json(["ok": true])) }
            var target = URLEncodedForm.appending(name: "email", value: normalized, to: configuration.url("/\(context.provider)/signup"))
            target = URLEncodedForm.appending(name: "sent", value: "1", to: target)
            return .respond(.redirect(to: target, status: .seeOther))
        case ("signup-options", false):
            let form = request.formOrJSON
            return .respond(try await passkeys.signUpOptions(email: form["email"] ?? "", code: form["code"], name: form["name"], request: request).response)
        default:
            return nil
        }
    }
}
