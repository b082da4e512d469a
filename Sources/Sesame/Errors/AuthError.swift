import HTTPTypes

/// Why a sign-in flow stopped: a stable code, the HTTP status it answers with, and a description for humans.
///
/// Every flow error ends in one place, ``AuthHandler``: a browser navigation is redirected to the error page
/// with `?error=CODE`; an API client gets `{"error": CODE, "error_description": …, "message": …}` with the status. Bad
/// input always yields a 4xx; only a failure of the app's own code is a 500.
public struct AuthError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable error code, for example `invalid_token`.
    public let code: String
    /// The HTTP status the error answers with.
    public let status: HTTPResponse.Status
    /// A description for humans (never secrets or tokens).
    public let detail: String?
    /// Seconds after which a rate-limited client may try again.
    public let retryAfter: Int?
    /// Header fields the error response must carry anyway (for example clearing a flow cookie).
    public internal(set) var responseFields: [HTTPField] = []

    /// Creates an error.
    public init(code: String, status: HTTPResponse.Status, detail: String? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.status = status
        self.detail = detail
        self.retryAfter = retryAfter
    }

    /// The JSON error response for API clients: `{"error", "error_description", "message"}` with the error's status
    /// (`message` is for people: the built-in pages' text for the code).
    public var jsonResponse: AuthResponse {
        var body: JSONObject = ["error": .string(code)]
        if let detail { body["error_description"] = .string(detail) }
        body["message"] = .string(message)
        var response = AuthResponse.json(.object(body), status: status)
        if let retryAfter { response.head.headerFields[.retryAfter] = String(retryAfter) }
        for field in responseFields { response.head.headerFields.append(field) }
        return response
    }

    /// The refusal a framework's own error stands for (an unmatched route, a method the route lacks, a body over
    /// the limit): Sesame's stable code for its status, so that every refusal has one shape.
    ///
    /// - Parameter status: The framework's status.
    /// - Returns: The error, with the framework's status.
    public static func forStatus(_ status: HTTPResponse.Status) -> AuthError {
        switch status.code {
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 413: return .payloadTooLarge
        case 429: return .rateLimited
        case 503: return .unavailable
        case 500...: return AuthError(code: serverError.code, status: status, detail: serverError.detail)
        default: return AuthError(code: invalidRequest.code, status: status, detail: invalidRequest.detail)
        }
    }

    /// The answer to a request: for a browser navigation a small page with the message, for anything else
    /// ``jsonResponse``.
    ///
    /// - Parameter request: The request refused.
    /// - Returns: The response.
    public func response(to request: HTTPRequest) -> AuthResponse {
        guard request.isBrowserNavigation else { return jsonResponse }
        var response = AuthResponse.html(
            HTML.page(title: "Not possible", body: "<h1>That did not work</h1><p>\(HTML.escape(message))</p><p><a href=\"/\">Home</a></p>"), status: status)
        for field in responseFields { response.head.headerFields.append(field) }
        return response
    }

    /// Runs store work, answering a store that cannot be reached (``SessionStoreError``) with
    /// ``unavailable``; every other error passes through as it is.
    ///
    /// - Parameter body: The store work.
    /// - Returns: What `body` returns.
    static func mappingStoreErrors<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as SessionStoreError {
            throw AuthError.unavailable.with(detail: error.description)
        }
    }

    /// A copy with a different description.
    public func with(detail: String) -> AuthError {
        var copy = AuthError(code: code, status: status, detail: detail, retryAfter: retryAfter)
        copy.responseFields = responseFields
        return copy
    }

    /// A copy whose response also carries `field`.

    public static func == (lhs: AuthError, rhs: AuthError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { detail.map { "\(code): \($0)" } ?? code }

    /// No provider is configured under that name.
    public static let unknownProvider = AuthError(code: "unknown_provider", status: .notFound, detail: "no such provider")
    /// No route under the handler's prefix matches.
    public static let notFound = AuthError(code: "not_found", status: .notFound, detail: "no such route")
    /// The method is not allowed on that route.
    public static let methodNotAllowed = AuthError(code: "method_not_allowed", status: .methodNotAllowed, detail: "method not allowed")
    /// A required parameter is missing or malformed.
    public static let invalidRequest = AuthError(code: "invalid_request", status: .badRequest, detail: "the request is missing a parameter or has a malformed one")
    /// The sign-in token is forged, tampered with, malformed or issued for another purpose.
    public static let invalidToken = AuthError(code: "invalid_token", status: .badRequest, detail: "the sign-in link is not valid")
    /// The sign-in token has expired.
    public static let expiredToken = AuthError(code: "expired_token", status: .badRequest, detail: "the sign-in link has expired")
    /// The sign-in token was already used.
    public static let usedToken = AuthError(code: "used_token", status: .badRequest, detail: "the sign-in link was already used")
    /// Too many requests; see ``retryAfter``.
    public static let rateLimited = AuthError(code: "rate_limited", status: .tooManyRequests, detail: "too many requests; try again later")
    /// A cross-origin request tried to change state.
    public static let forbiddenOrigin = AuthError(code: "forbidden_origin", status: .forbidden, detail: "cross-origin requests are not allowed here")
    /// A state-changing Auth.js action without a valid double-submit CSRF token.
    public static let invalidCSRFToken = AuthError(code: "invalid_csrf_token", status: .forbidden, detail: "the CSRF token is missing or does not match")
    /// The request body is larger than the handler accepts.
    public static let payloadTooLarge = AuthError(code: "payload_too_large", status: .contentTooLarge, detail: "the request body is too large")
    /// The app (or the identity provider) refused the sign-in.
    public static let accessDenied = AuthError(code: "access_denied", status: .forbidden, detail: "sign-in was refused")
    /// A store the flow needs (replay protection, rate limits) is unavailable; the request fails closed.
    public static let unavailable = AuthError(code: "temporarily_unavailable", status: .serviceUnavailable, detail: "try again later")
    /// A session could not be revoked (the revocation store is down or full), so signing out or in again would
    /// leave a token valid that the user believes ended: the request fails closed.
    public static let revocationUnavailable = AuthError(code: "revocation_unavailable", status: .serviceUnavailable, detail: "the session could not be revoked; try again later")
    /// The OAuth / OpenID Connect callback's state is missing, forged, expired, replayed or another provider's.
    public static let invalidState = AuthError(code: "invalid_state", status: .badRequest, detail: "the sign-in state is not valid; start again")
    /// The identity provider could not be reached or answered nonsense while starting a sign-in (Auth.js `OAuthSignin`).
    public static let oauthSignin = AuthError(code: "oauth_signin", status: .badGateway, detail: "the identity provider cannot be reached")
    /// The identity provider's callback, code exchange or tokens failed (Auth.js `OAuthCallbackError`).
    public static let oauthCallback = AuthError(code: "oauth_callback", status: .badGateway, detail: "the identity provider's answer was not valid")
    /// The ID token failed verification (signature, issuer, audience, expiry or nonce).
    public static let invalidIDToken = AuthError(code: "invalid_id_token", status: .badRequest, detail: "the identity provider's ID token is not valid")
    /// The identity is new, but a user with its email address exists and the address is not proven on both sides:
    /// Auth.js's `OAuthAccountNotLinked`. The person signs in the way they did before and links from there.
    public static let accountNotLinked = AuthError(code: "account_not_linked", status: .forbidden, detail: "this sign-in is not linked to the account with its email address; sign in the way you did before, then link it")
    /// The identity is linked to another user than the one signed in.
    public static let accountLinkedElsewhere = AuthError(code: "account_linked_elsewhere", status: .conflict, detail: "this sign-in belongs to another user")
    /// The account is the user's last way to sign in, so it cannot be unlinked.
    public static let lastSignInMethod = AuthError(code: "last_sign_in_method", status: .conflict, detail: "this is the last way to sign in to the account")
    /// The provider refused to refresh the account's tokens (or holds none): the user must sign in with it again.
    public static let reauthenticationRequired = AuthError(code: "reauthentication_required", status: .unauthorized, detail: "sign in with this provider again")
    /// The provider could not refresh the account's tokens now; nothing changed.
    public static let providerUnavailable = AuthError(code: "provider_unavailable", status: .serviceUnavailable, detail: "the identity provider cannot be reached; try again later")
    /// Another user has the email address.
    public static let emailInUse = AuthError(code: "email_in_use", status: .conflict, detail: "another account uses this email address")
    /// The route needs a recent sign-in and the session's is older: sign in again, then retry.
    public static let reauthRequired = AuthError(code: "reauth_required", status: .forbidden, detail: "sign in again to continue")
    /// The server has more password hashes to compute than it queues; try again in a second.
    public static let serverBusy = AuthError(code: "server_busy", status: .serviceUnavailable, detail: "the server is busy; try again shortly", retryAfter: 1)
    /// A password the policy refuses (too short, too long, or too common).
    public static let weakPassword = AuthError(code: "weak_password", status: .badRequest, detail: "choose another password")
    /// A password sign-in failed: no such address, no password for it, or the wrong password (never which).
    public static let invalidCredentials = AuthError(code: "invalid_credentials", status: .unauthorized, detail: "the email address or password is not correct")
    /// The password was right, but the address has not been verified yet.
    public static let emailNotVerified = AuthError(code: "email_not_verified", status: .forbidden, detail: "verify your email address first; we sent you a link")
    /// A password-reset or email-verification link or code that is unknown, used or expired.
    public static let invalidVerification = AuthError(code: "invalid_verification", status: .badRequest, detail: "this link or code is not valid; it may have been used or expired")
    /// A second-factor code that is wrong, used already, or for no enrolment.
    public static let invalidCode = AuthError(code: "invalid_code", status: .unauthorized, detail: "the code is not correct")
    /// The second-factor step was reached without a live challenge (no correct password in the last five minutes).
    public static let challengeExpired = AuthError(code: "challenge_expired", status: .unauthorized, detail: "sign in again: the sign-in took too long")
    /// The app's own code failed.
    /// A passkey response that is not a WebAuthn credential: malformed JSON, CBOR or authenticator data.
    public static let invalidPasskeyResponse = AuthError(code: "invalid_passkey_response", status: .badRequest, detail: "the passkey response is not valid")
    /// A passkey ceremony whose challenge is missing, expired, used, or was issued for another ceremony or user.
    public static let passkeyChallengeExpired = AuthError(code: "passkey_challenge_expired", status: .badRequest, detail: "the passkey prompt took too long or was used already; try again")
    /// The client data's `type` is not the ceremony's (`webauthn.create` for a registration, `webauthn.get` for a sign-in).
    public static let passkeyWrongCeremony = AuthError(code: "passkey_wrong_ceremony", status: .badRequest, detail: "the passkey response is for another ceremony")
    /// The client data's challenge is not the one issued.
    public static let passkeyChallengeMismatch = AuthError(code: "passkey_challenge_mismatch", status: .badRequest, detail: "the passkey response answers another challenge")
    /// The ceremony ran on an origin that is not the site's (or in a cross-origin frame).
    public static let passkeyOriginNotAllowed = AuthError(code: "passkey_origin_not_allowed", status: .forbidden, detail: "the passkey was used on another site")
    /// The authenticator data's relying party ID hash is not the site's.
    public static let passkeyRelyingPartyMismatch = AuthError(code: "passkey_rp_id_mismatch", status: .badRequest, detail: "the passkey belongs to another site")
    /// The authenticator did not report the user present.
    public static let passkeyUserNotPresent = AuthError(code: "passkey_user_not_present", status: .badRequest, detail: "the passkey was used without the user present")
    /// The authenticator did not verify the user (PIN, biometrics), which the site requires.
    public static let passkeyUserNotVerified = AuthError(code: "passkey_user_not_verified", status: .unauthorized, detail: "the passkey did not verify you (PIN, fingerprint or face)")
    /// The assertion's signature does not verify with the stored public key.
    public static let passkeyInvalidSignature = AuthError(code: "passkey_invalid_signature", status: .unauthorized, detail: "the passkey's signature is not valid")
    /// The credential's algorithm is not ES256, RS256 or EdDSA.
    public static let passkeyUnsupportedAlgorithm = AuthError(code: "passkey_unsupported_algorithm", status: .badRequest, detail: "this kind of passkey is not supported")
    /// The attestation statement does not verify, or its format is not supported.
    public static let passkeyInvalidAttestation = AuthError(code: "passkey_invalid_attestation", status: .badRequest, detail: "the passkey's attestation is not valid")
    /// No passkey with the credential ID (or not the expected user's).
    public static let passkeyUnknownCredential = AuthError(code: "passkey_unknown_credential", status: .unauthorized, detail: "this passkey is not registered here")
    /// The signature counter did not go up: the passkey may have been cloned, and is flagged.
    public static let passkeyCloned = AuthError(code: "passkey_counter_regression", status: .unauthorized, detail: "this passkey's counter went backwards, so it may have been copied; it is blocked")
    /// The authenticator data's backup eligibility is not the one the passkey was registered with.
    public static let passkeyBackupEligibilityChanged = AuthError(code: "passkey_backup_eligibility_changed", status: .unauthorized, detail: "this passkey does not match the one registered")
    /// The credential is registered already.
    public static let passkeyInUse = AuthError(code: "passkey_in_use", status: .conflict, detail: "this passkey is registered already")
    /// The user has as many passkeys as allowed.
    public static let tooManyPasskeys = AuthError(code: "too_many_passkeys", status: .conflict, detail: "remove a passkey before adding another")
    /// The token endpoint's (RFC 6749 §5.2): the code or refresh token is unknown, used, expired, revoked, for
    /// another app or redirect URI, or the PKCE verifier does not match.
    public static let invalidGrant = AuthError(code: "invalid_grant", status: .badRequest, detail: "the code or refresh token is not valid")
    /// The token endpoint's (RFC 6749 §5.2) and the native sign-in's: no registered app has this ID.
    public static let invalidClient = AuthError(code: "invalid_client", status: .unauthorized, detail: "no app is registered with this client_id")
    /// The token endpoint's (RFC 6749 §5.2): a `grant_type` other than `authorization_code` and `refresh_token`.
    public static let unsupportedGrantType = AuthError(code: "unsupported_grant_type", status: .badRequest, detail: "grant_type is authorization_code or refresh_token")
    /// A native sign-in's redirect URI is not one of the app's.
    public static let invalidRedirectURI = AuthError(code: "invalid_redirect_uri", status: .badRequest, detail: "the redirect_uri is not registered for this app")
    public static let serverError = AuthError(code: "server_error", status: .internalServerError, detail: "something went wrong")
    /// A route that needs a session, without one.
    public static let unauthorized = AuthError(code: "unauthorized", status: .unauthorized, detail: "a session is required")
    /// A refusal without a more precise reason.
    public static let forbidden = AuthError(code: "forbidden", status: .forbidden, detail: "this request is not allowed")
}
