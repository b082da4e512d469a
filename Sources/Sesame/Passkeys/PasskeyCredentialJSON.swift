import Foundation

/// A browser's answer to a ceremony in the shape of `PublicKeyCredential.toJSON()` (WebAuthn §5.1.8): the
/// credential ID and the authenticator's response, every binary field base64url.
struct PasskeyCredentialJSON: Sendable {
    /// The credential ID (`rawId`, which must equal `id`).
    let credentialID: [UInt8]
    /// The client data's exact bytes.
    let clientDataJSON: [UInt8]
    /// Registration: the attestation object.
    let attestationObject: [UInt8]?
    /// Registration: how the client can reach the authenticator, as it reported.
    let transports: [String]
    /// Authentication: the authenticator data.
    let authenticatorData: [UInt8]?
    /// Authentication: the signature.
    let signature: [UInt8]?
    /// Authentication: the user handle a discoverable credential returned.
    let userHandle: [UInt8]?

    /// The largest response accepted, in bytes of JSON.
    static let maximumSize = 64 * 1024

    /// Parses the JSON.
    ///
    /// - Parameters:
    ///   - value: The credential, already parsed as JSON (the `data` field of Auth.js's callback, or the body).
    ///   - registration: Whether the ceremony registers a credential (an attestation response) or asserts one.
    /// - Throws: ``AuthError/invalidPasskeyResponse`` naming the first field that is missing or malformed.
    init(_ value: JSONValue, registration: Bool) throws(AuthError) {
        guard let object = value.objectValue else { throw Self.invalid("the credential is not a JSON object") }
        guard object["type"]?.stringValue == "public-key" else { throw Self.invalid("type is not public-key") }
        guard let id = object["id"]?.stringValue, let rawID = object["rawId"]?.stringValue, id == rawID,
            let credentialID = Base64URL.decode(rawID), (1...1023).contains(credentialID.count)
        else { throw Self.invalid("id and rawId are missing, differ or are not base64url") }
        guard let response = object["response"]?.objectValue else { throw Self.invalid("response is missing") }
        func bytes(_ name: String, required: Bool = true) throws(AuthError) -> [UInt8]? {
            guard let field = response[name], field != .null else {
                if required { throw Self.invalid("response.\(name) is missing") }
                return nil
            }
            guard let text = field.stringValue, let decoded = Base64URL.decode(text) else { throw Self.invalid("response.\(name) is not base64url") }
            return decoded
        }
        self.credentialID = credentialID
        self.clientDataJSON = try bytes("clientDataJSON")!
        if registration {
            attestationObject = try bytes("attestationObject")
            let reported = response["transports"]?.arrayValue ?? []
            transports = Array(reported.compactMap(\.stringValue).filter { $0.utf8.count <= 32 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }.prefix(8))
            authenticatorData = nil
            signature = nil
            userHandle = nil
        } else {
            attestationObject = nil
            transports = []
            authenticatorData = try bytes("authenticatorData")
            signature = try bytes("signature")
            userHandle = try bytes("userHandle", required: false).flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    private static func invalid(_ detail: String) -> AuthError { AuthError.invalidPasskeyResponse.with(detail: detail) }
}
