/// What the error page (`{prefix}/error?error=CODE`) says for each known code.
///
/// Only known codes are described; the code itself is shown escaped, so the page reflects nothing unsafe.
enum ErrorMessages {
    static let text: [String: String] = [
        "invalid_token": "This sign-in link is not valid. Request a new one.",
        "expired_token": "This sign-in link has expired. Request a new one.",
        "used_token": "This sign-in link was already used. Request a new one.",
        "invalid_request": "The sign-in request was incomplete or malformed.",
        "rate_limited": "Too many attempts. Wait a little and try again.",
        "forbidden_origin": "This request came from another site and was refused.",
        "invalid_csrf_token": "The form had expired. Reload the page and try again.",
        "Configuration": "There is a problem with the server configuration.",
        "AccessDenied": "You do not have permission to sign in.",
        "Verification": "The sign-in link is no longer valid. It may have been used already or it may have expired.",
        "access_denied": "Sign-in was refused.",
        "unknown_provider": "This sign-in method does not exist.",
        "temporarily_unavailable": "Sign-in is temporarily unavailable. Try again shortly.",
        "server_error": "Something went wrong on our side.",
        "account_not_linked": "An account with this email address exists already. To confirm your identity, sign in the way you did before; you can link this sign-in from your account page afterwards.",
        "OAuthAccountNotLinked": "An account with this email address exists already. To confirm your identity, sign in the way you did before; you can link this sign-in from your account page afterwards.",
        "account_linked_elsewhere": "This sign-in belongs to another account. Sign out first to use it.",
        "invalid_credentials": "The email address or password is not correct.",
        "email_not_verified": "Verify your email address first: open the link we sent you, or request a new one.",
        "invalid_verification": "This link or code is not valid. It may have been used already or it may have expired.",
        "weak_password": "Choose another password: it is too short, too long or too common.",
        "server_busy": "The server is busy. Try again in a moment.",
        "invalid_code": "That code is not correct. Codes change every 30 seconds, and each works once.",
        "invalid_client": "This app is not registered to sign in here.",
        "unauthorized": "Sign in to see this page.",
        "forbidden": "This request is not allowed.",
        "not_found": "There is nothing at this address.",
        "method_not_allowed": "This address does not take that kind of request.",
        "payload_too_large": "What was sent is too large.",
        "invalid_redirect_uri": "This app asked to be signed in at an address it is not registered for.",
        "invalid_grant": "The app's sign-in is no longer valid. Start again from the app.",
        "challenge_expired": "The sign-in took too long. Sign in again.",
        "invalid_passkey_response": "The passkey's answer was not valid. Try again.",
        "passkey_challenge_expired": "The passkey prompt took too long or was used already. Try again.",
        "passkey_wrong_ceremony": "The passkey answered another kind of request. Try again.",
        "passkey_challenge_mismatch": "The passkey answered another request. Try again.",
        "passkey_origin_not_allowed": "The passkey was used on another site, so it was refused.",
        "passkey_rp_id_mismatch": "This passkey belongs to another site.",
        "passkey_user_not_present": "The passkey was used without you touching or unlocking it.",
        "passkey_user_not_verified": "The passkey did not verify you. Use your device's PIN, fingerprint or face.",
        "passkey_invalid_signature": "The passkey's signature is not valid.",
        "passkey_unsupported_algorithm": "This kind of passkey is not supported here.",
        "passkey_invalid_attestation": "The passkey's attestation is not valid.",
        "passkey_unknown_credential": "This passkey is not registered here. Sign in another way, then add it from your account page.",
        "passkey_counter_regression": "This passkey may have been copied, so it is blocked. Sign in another way and remove it.",
        "passkey_backup_eligibility_changed": "This passkey does not match the one registered. Sign in another way.",
        "passkey_in_use": "This passkey is registered already.",
        "too_many_passkeys": "You have as many passkeys as allowed. Remove one first.",
        "last_sign_in_method": "This is the last way to sign in to your account, so it cannot be removed.",
    ]
}

extension AuthError {
    /// What to show people for this error: the built-in pages' message for its code (never the developer's detail).
    public var message: String { ErrorMessages.text[code] ?? "That did not work. Try again." }
}
