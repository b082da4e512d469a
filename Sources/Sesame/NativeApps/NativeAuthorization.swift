import Foundation

/// An app's sign-in in the browser, between `GET {prefix}/native/authorize` and the code: which app, where the
/// code goes, its PKCE challenge and `state`, sealed in a short-lived cookie (AES-GCM under a key derived for this
/// purpose alone, so it can be neither read nor forged).
struct NativeAuthorization: Sendable, Equatable {
    /// The app (`client_id`).
    let clientID: String
    /// The redirect URI, one of the app's.
    let redirectURI: String
    /// The PKCE challenge (`S256`, base64url of 32 bytes).
    let challenge: String
    /// The app's `state`, handed back with the code.
    let state: String
    /// When the sign-in started, in whole seconds since 1970: only a browser session from then on completes it.
    let startedAt: Int64
    /// When it stops being accepted.
    let expiresAt: Int64

    private static let purpose = "sesame/native-authorization/v1"

    /// The cookie that carries it (`__Host-` on https). `Lax`: the sign-in may come back from an identity
    /// provider's site as a top-level navigation.
    static func cookie(baseURL: String) -> SessionCookie {
        SessionCookie(name: "sesame-native", sameSite: .lax, baseURL: baseURL)
    }

    init(clientID: String, redirectURI: String, challenge: String, state: String, now: Date, lifetime: Double) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.challenge = challenge
        self.state = state
        self.startedAt = Int64(now.timeIntervalSince1970.rounded(.down))
        self.expiresAt = startedAt + Int64(lifetime)
    }

    /// The sealed cookie value.
    func sealed(keys: KeySet) throws -> String {
        let object: JSONObject = [
            "c": .string(clientID), "r": .string(redirectURI), "p": .string(challenge), "s": .string(state),
            "t": .integer(startedAt), "e": .integer(expiresAt),
        ]
        return Base64URL.encode(try PurposeSealer(keys: keys, purpose: Self.purpose).seal(JSONValue.object(object).jsonBytes, for: []))
    }

    /// Opens a cookie value; `nil` when it is forged, tampered with, sealed under a key no longer in the set, or
    /// expired.
    static func open(_ value: String, keys: KeySet, now: Date) -> NativeAuthorization? {
        guard value.utf8.count <= 4096, let sealed = Base64URL.decode(value),
            let plain = PurposeSealer(keys: keys, purpose: purpose).open(sealed, for: []),
            let object = (try? JSONValue(parsing: plain))?.objectValue,
            let clientID = object["c"]?.stringValue, let redirectURI = object["r"]?.stringValue, let challenge = object["p"]?.stringValue,
            let state = object["s"]?.stringValue, case .integer(let startedAt)? = object["t"], case .integer(let expiresAt)? = object["e"],
            Int64(now.timeIntervalSince1970) < expiresAt
        else { return nil }
        return NativeAuthorization(clientID: clientID, redirectURI: redirectURI, challenge: challenge, state: state, startedAt: startedAt, expiresAt: expiresAt)
    }

    private init(clientID: String, redirectURI: String, challenge: String, state: String, startedAt: Int64, expiresAt: Int64) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.challenge = challenge
        self.state = state
        self.startedAt = startedAt
        self.expiresAt = expiresAt
    }
}
