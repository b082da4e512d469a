import Foundation

/// A passkey registered to a user: Auth.js's `Authenticator` (named so as not to collide with Vapor's
/// `Authenticator` protocol).
public struct PasskeyAuthenticator: Sendable, Hashable {
    /// The credential's ID, as the authenticator chose it.
    public let credentialID: [UInt8]
    /// The owner.
    public let userID: String
    /// The credential's public key, as a COSE key.
    public let publicKey: [UInt8]
    /// The last signature counter seen (0 for authenticators that do not count).
    public var counter: UInt32
    /// Whether the credential is backed up (synced).
    public var backedUp: Bool
    /// `singleDevice` or `multiDevice` (backup eligible).
    public let deviceType: String
    /// How the client can reach the authenticator (`internal`, `hybrid`, `usb`, …).
    public let transports: [String]
    /// A name the user chose.
    public var name: String?
    /// When it was registered.
    public let createdAt: Date
    /// When it last signed in (`nil` until it has).
    public var lastUsedAt: Date?
    /// When a sign-in presented a signature counter that went backwards, the sign of a possibly cloned
    /// authenticator (`nil` if none has): a flagged passkey is refused for sign-in.
    public var flaggedAt: Date?

    /// Creates a record.
    ///
    /// - Parameters:
    ///   - credentialID: The credential's ID.
    ///   - userID: The owner.
    ///   - publicKey: The COSE public key.
    ///   - counter: The signature counter.
    ///   - backedUp: Whether it is backed up.
    ///   - deviceType: `singleDevice` or `multiDevice`.
    ///   - transports: The transports.
    ///   - name: A name the user chose.
    ///   - createdAt: When it was registered.
    ///   - lastUsedAt: When it last signed in.
    ///   - flaggedAt: When its signature counter was seen going backwards.
    public init(
        credentialID: [UInt8], userID: String, publicKey: [UInt8], counter: UInt32 = 0, backedUp: Bool = false,
        deviceType: String = "singleDevice", transports: [String] = [], name: String? = nil, createdAt: Date = Date(),
        lastUsedAt: Date? = nil, flaggedAt: Date? = nil
    ) {
        self.credentialID = credentialID
        self.userID = userID
        self.publicKey = publicKey
        self.counter = counter
        self.backedUp = backedUp
        self.deviceType = deviceType
        self.transports = transports
        self.name = name
        self.createdAt = createdAt.wholeMilliseconds
        self.lastUsedAt = lastUsedAt?.wholeMilliseconds
        self.flaggedAt = flaggedAt?.wholeMilliseconds
    }
}

extension PasskeyAuthenticator {
    /// The credential ID as base64url, as WebAuthn's JSON and the account page's forms carry it.
    public var id: String { Base64URL.encode(credentialID) }

    /// A credential ID from its base64url form, or `nil` when it is not canonical base64url of 1 to 1023 bytes.
    public static func credentialID(from id: String) -> [UInt8]? {
        guard id.utf8.count <= 1364, let bytes = Base64URL.decode(id), (1...1023).contains(bytes.count) else { return nil }
        return bytes
    }
}
