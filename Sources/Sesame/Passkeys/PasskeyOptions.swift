import HTTPTypes

/// The options of a WebAuthn ceremony for the browser's `navigator.credentials.create()` or `.get()`, in their
/// JSON form (`PublicKeyCredentialCreationOptionsJSON` / `PublicKeyCredentialRequestOptionsJSON`), and the cookie
/// that carries the ceremony's sealed state to its verification.
public struct PasskeyOptions: Sendable {
    /// `register` or `authenticate`, as Auth.js's `webauthn-options` action names them.
    public let action: String
    /// The options, for `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`.
    public let options: JSONObject
    /// The `Set-Cookie` field with the sealed challenge; the response that carries the options must carry it.
    public let cookieField: HTTPField

    /// The answer Auth.js's client reads (`{action, options}`), with the challenge cookie and no caching.
    public var response: AuthResponse {
        var response = AuthResponse.json(["action": .string(action), "options": .object(options)])
        response.head.headerFields.append(cookieField)
        return response
    }
}
