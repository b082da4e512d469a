import Foundation

/// The state between a correct password and the second factor: "this browser passed the first factor for this
/// user", sealed in a short-lived cookie. It is not a session: only the second-factor step reads it, and a
/// session is issued only after the code. Single use (its ID is redeemed in the handler's replay store), valid for
/// five minutes, sealed (AES-GCM under a key derived for this purpose alone) so it can be neither read nor forged.
struct SecondFactorChallenge: Sendable, Equatable {
    /// The user who passed the first factor.
    let userID: String
    /// Where the sign-in was headed.
    let returnTo: String?
    /// A random ID, redeemed once.
    let id: String
    /// When it stops being accepted, in whole seconds since 1970.
    let expiresAt: Int64

    /// How long a challenge lasts, in seconds.
    static let lifetime: Int64 = 300
    private static let purpose = "sesame/second-factor-challenge/v1"

    /// The cookie that carries it (`__Host-` on https).
    static func cookie(baseURL: String) -> SessionCookie {
        SessionCookie(name: "sesame-2fa", sameSite: .lax, baseURL: baseURL)
    }

    /// A new challenge for a user.
    init(userID: String, returnTo: String?, now: Date) {
        self.userID = userID
        self.returnTo = returnTo
        self.id = RandomToken.make(byteCount: 16)
        self.expiresAt = Int64(now.timeIntervalSince1970) + Self.lifetime
    }

    private init(userID: String, returnTo: String?, id: String, expiresAt: Int64) {
        self.userID = userID
        self.returnTo = returnTo
        self.id = id
        self.expiresAt = expiresAt
    }

    /// The same challenge under a new ID (after a wrong code): same user, same deadline.
    func renewed() -> SecondFactorChallenge {
        SecondFactorChallenge(userID: userID, returnTo: returnTo, id: RandomToken.make(byteCount: 16), expiresAt: expiresAt)
    }

    /// The sealed cookie value.
    func sealed(keys: KeySet) throws -> String {
        var object: JSONObject = ["u": .string(userID), "i": .string(id), "e": .integer(expiresAt)]
        if let returnTo { object["r"] = .string(returnTo) }
        return Base64URL.encode(try PurposeSealer(keys: keys, purpose: Self.purpose).seal(JSONValue.object(object).jsonBytes, for: []))
    }

    /// Opens a cookie value; `nil` when it is forged, tampered with, sealed under a key no longer in the set, or expired.
    static func open(_ value: String, keys: KeySet, now: Date) -> SecondFactorChallenge? {
        guard value.utf8.count <= 4096, let sealed = Base64URL.decode(value),
            let plain = PurposeSealer(keys: keys, purpose: purpose).open(sealed, for: []),
            let object = (try? JSONValue(parsing: plain))?.objectValue,
            let userID = object["u"]?.stringValue, let id = object["i"]?.stringValue, case .integer(let expiresAt)? = object["e"],
            Int64(now.timeIntervalSince1970) < expiresAt
        else { return nil }
        return SecondFactorChallenge(userID: userID, returnTo: object["r"]?.stringValue, id: id, expiresAt: expiresAt)
    }
}
