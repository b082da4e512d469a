import Crypto
import Foundation

/// The client data a browser signs over in a WebAuthn ceremony (`CollectedClientData`, WebAuthn §5.8.1), parsed
/// from its exact JSON bytes, which are what the signature covers.
struct ClientData: Sendable {
    /// `webauthn.create` or `webauthn.get`.
    let type: String
    /// The challenge, decoded.
    let challenge: [UInt8]
    /// The origin of the page that ran the ceremony.
    let origin: String
    /// Whether the ceremony ran in a cross-origin frame.
    let crossOrigin: Bool
    /// The top-level origin of a cross-origin frame.
    let topOrigin: String?
    /// SHA-256 of the JSON bytes (what the authenticator signed, after the authenticator data).
    let hash: [UInt8]

    /// Parses client data JSON.
    ///
    /// - Throws: ``AuthError/invalidPasskeyResponse`` for anything that is not a JSON object with a string `type`,
    ///   a base64url `challenge` and a string `origin`.
    init(json: [UInt8]) throws(AuthError) {
        guard json.count <= 4096, let object = (try? JSONValue(parsing: json))?.objectValue,
            let type = object["type"]?.stringValue, let encodedChallenge = object["challenge"]?.stringValue,
            let challenge = Base64URL.decode(encodedChallenge), let origin = object["origin"]?.stringValue
        else { throw AuthError.invalidPasskeyResponse.with(detail: "the client data is not valid") }
        let crossOrigin: Bool
        switch object["crossOrigin"] {
        case nil, .null?: crossOrigin = false
        case .bool(let value)?: crossOrigin = value
        default: throw AuthError.invalidPasskeyResponse.with(detail: "the client data's crossOrigin is not a boolean")
        }
        self.type = type
        self.challenge = challenge
        self.origin = origin
        self.crossOrigin = crossOrigin
        self.topOrigin = object["topOrigin"]?.stringValue
        self.hash = Array(SHA256.hash(data: json))
    }

    /// Checks the client data against what the ceremony expects (WebAuthn §7.1 steps 7–10, §7.2 steps 11–14).
    ///
    /// - Parameters:
    ///   - type: `webauthn.create` or `webauthn.get`.
    ///   - challenge: The challenge the server issued.
    ///   - origins: The accepted origins.
    /// - Throws: ``AuthError/passkeyWrongCeremony``, ``AuthError/passkeyChallengeMismatch`` or
    ///   ``AuthError/passkeyOriginNotAllowed`` (also for a ceremony in a cross-origin frame).
    func check(type expectedType: String, challenge expected: [UInt8], origins: Set<String>) throws(AuthError) {
        guard type == expectedType else { throw AuthError.passkeyWrongCeremony.with(detail: "expected \(expectedType)") }
        guard ConstantTime.equals(challenge, expected) else { throw AuthError.passkeyChallengeMismatch }
        guard origins.contains(origin) else { throw AuthError.passkeyOriginNotAllowed.with(detail: "the origin is not one of the site's") }
        guard !crossOrigin, topOrigin == nil else { throw AuthError.passkeyOriginNotAllowed.with(detail: "the ceremony ran in a cross-origin frame") }
    }
}
