/// The page failed browser flows land on (`{prefix}/error?error=CODE`).
///
/// Only known codes are described; the code itself is shown escaped, so the page reflects nothing unsafe.
enum ErrorPage {
    static let messages: [String: String] = [
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
    ]

    static func html(code: String?) -> String {
        let known = code.flatMap { messages[$0] }
        let message = known ?? "Sign-in did not complete."
        let detail = known != nil ? "<p class=\"muted\">Error code: <code>\(HTML.escape(code!))</code></p>" : ""
        return HTML.page(title: "Sign-in error", body: "<h1>Sign-in error</h1><p role=\"alert\">\(HTML.escape(message))</p>\(detail)")
    }

    static func response(code: String?) -> AuthResponse {
        .html(html(code: code), status: .ok)
    }
}
