import Foundation

/// A WebAuthn ceremony's server state between its options and its response, sealed in a short-lived cookie:
/// the challenge, the ceremony it was issued for, why (sign-up, adding a passkey, sign-in, second factor) and, when
/// a user is known, whose. Sealed (AES-GCM under a key derived for this purpose alone), valid for at most five
/// minutes, and redeemed once: verification consumes the challenge in the replay store before anything else.
struct PasskeyChallenge: Sendable, Equatable {
    /// Why the ceremony runs, which decides what a verified response does.
    enum Purpose: String, Sendable {
        /// A new user's first passkey (the address was proved by a code).
        case signUp = "signup"
        /// A signed-in user's further passkey.
        case add
        /// A sign-in, with or without a user named first.
        case signIn = "signin"
        /// The second factor after a password.
        case secondFactor = "2fa"

        /// Whether the ceremony creates a credential (`webauthn.create`) rather than asserting one.
        var isRegistration: Bool { self == .signUp || self == .add }
    }

    /// The challenge (32 random bytes).
    let challenge: [UInt8]
    let purpose: Purpose
    /// The user the ceremony is for: the new user's ID on sign-up, the signed-in user's, or the user who passed the
    /// password; `nil` for a sign-in that names nobody (discoverable credentials, autofill).
    let userID: String?
    /// The new user's address (sign-up), proved by a code.
    let email: String?
    /// The new user's name (sign-up).
    let name: String?
    /// Where the sign-in was headed.
    let returnTo: String?
    /// When it stops being accepted, in whole seconds since 1970.
    let expiresAt: Int64

    private static let purposeLabel = "sesame/passkey-challenge/v1"

    /// The cookie that carries it (`__Host-` on https).
    static func cookie(baseURL: String) -> SessionCookie {
        SessionCookie(name: "sesame-webauthn", sameSite: .strict, baseURL: baseURL)
    }

    /// A new challenge.
    init(purpose: Purpose, userID: String?, email: String? = nil, name: String? = nil, returnTo: String? = nil, lifetime: Double, now: Date) {
        self.init(
            challenge: RandomToken.bytes(32), purpose: purpose, userID: userID, email: email, name: name, returnTo: returnTo,
            expiresAt: Int64(now.timeIntervalSince1970) + Int64(lifetime))
    }

    /// A challenge with every part given (a renewal, an opened cookie, a recorded ceremony in tests).
    init(challenge: [UInt8], purpose: Purpose, userID: String?, email: String?, name: String?, returnTo: String?, expiresAt: Int64) {
        self.challenge = challenge
        self.purpose = purpose
        self.userID = userID
        self.email = email
        self.name = name
        self.returnTo = returnTo
        self.expiresAt = expiresAt
    }

    /// The same ceremony with a new challenge and the same deadline (options asked for again, after a cancelled prompt).
    func renewed() -> PasskeyChallenge {
        PasskeyChallenge(challenge: RandomToken.bytes(32), purpose: purpose, userID: userID, email: email, name: name, returnTo: returnTo, expiresAt: expiresAt)
    }

    /// The ID the replay store redeems.
    var replayID: String { "webauthn:" + Base64URL.encode(challenge) }

    /// The sealer of challenges under a key set (derive it once: the derivation is an HKDF per key).
    static func sealer(keys: KeySet) -> PurposeSealer { PurposeSealer(keys: keys, purpose: purposeLabel) }

    /// The sealed cookie value.
    func sealed(with sealer: PurposeSealer) throws -> String {
        var object: JSONObject = ["c": .string(Base64URL.encode(challenge)), "p": .string(purpose.rawValue), "e": .integer(expiresAt)]
        if let userID { object["u"] = .string(userID) }
        if let email { object["m"] = .string(email) }
        if let name { object["n"] = .string(name) }
        if let returnTo { object["r"] = .string(returnTo) }
        return Base64URL.encode(try sealer.seal(JSONValue.object(object).jsonBytes, for: []))
    }

    /// Opens a cookie value; `nil` when it is forged, tampered with, sealed under a key no longer in the set, or expired.
    static func open(_ value: String, with sealer: PurposeSealer, now: Date) -> PasskeyChallenge? {
        guard value.utf8.count <= 4096, let sealed = Base64URL.decode(value),
            let plain = sealer.open(sealed, for: []),
            let object = (try? JSONValue(parsing: plain))?.objectValue,
            let challenge = object["c"]?.stringValue.flatMap(Base64URL.decode), challenge.count == 32,
            let purpose = object["p"]?.stringValue.flatMap(Purpose.init(rawValue:)),
            case .integer(let expiresAt)? = object["e"], Int64(now.timeIntervalSince1970) < expiresAt
        else { return nil }
        return PasskeyChallenge(
            challenge: challenge, purpose: purpose, userID: object["u"]?.stringValue, email: object["m"]?.stringValue, name: object["n"]?.stringValue,
            returnTo: object["r"]?.stringValue, expiresAt: expiresAt)
    }
}
