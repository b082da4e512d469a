import Crypto
import Foundation

/// A single-use token sent to someone (a sign-in link, an email change, a password reset): Auth.js's
/// `VerificationToken`, with only the SHA-256 of the token stored.
public struct VerificationToken: Sendable, Hashable {
    /// Whom the token was sent to, usually the address.
    public let identifier: String
    /// The SHA-256 of the token.
    public let tokenHash: [UInt8]
    /// When it stops being accepted.
    public let expiresAt: Date
    /// What it is for (`signin`, `email-change`, `password-reset`): a token for one purpose never serves another.
    public let purpose: String

    /// Creates a record for a token.
    ///
    /// - Parameters:
    ///   - identifier: Whom it was sent to.
    ///   - tokenHash: The token's SHA-256.
    ///   - expiresAt: Its expiry.
    ///   - purpose: What it is for.
    public init(identifier: String, tokenHash: [UInt8], expiresAt: Date, purpose: String) {
        self.identifier = identifier
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt.wholeMilliseconds
        self.purpose = purpose
    }

    /// A new random token (32 bytes, base64url) and the record that stores its hash.
    ///
    /// - Parameters:
    ///   - identifier: Whom it is sent to.
    ///   - purpose: What it is for.
    ///   - lifetime: How long it is accepted, in seconds.
    ///   - now: The current time.
    /// - Returns: The token to send, and the record to store.
    public static func make(identifier: String, purpose: String, lifetime: Double, now: Date = Date()) -> (token: String, record: VerificationToken) {
        let token = RandomToken.make(byteCount: 32)
        return (token, VerificationToken(identifier: identifier, tokenHash: hash(token), expiresAt: now.addingTimeInterval(lifetime), purpose: purpose))
    }

    /// The identifier of a user's pending email change (the new address is in the token's purpose): stores delete
    /// the tokens under it, with those under the user's address, when they delete the user.
    ///
    /// - Parameter userID: The user.
    /// - Returns: `email-change:` followed by the user's ID.
    public static func emailChangeIdentifier(userID: String) -> String { "email-change:" + userID }

    /// The SHA-256 of a token's text, as stored.
    ///
    /// - Parameter token: The token as sent.
    /// - Returns: Its hash.
    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}
