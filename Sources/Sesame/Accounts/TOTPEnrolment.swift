import Foundation

/// A user's enrolled authenticator app: the TOTP secret, sealed (``TOTPFactor/sealed(with:userID:)``), and the
/// last time step a code was accepted for, so that no code is accepted twice.
public struct TOTPEnrolment: Sendable, Hashable {
    /// The user.
    public let userID: String
    /// The secret, sealed under a key derived from the key set and bound to the user.
    public let sealedSecret: [UInt8]
    /// The newest time step a code was accepted for, if any.
    public var lastUsedStep: Int64?
    /// When it was enrolled.
    public let createdAt: Date

    /// Creates a record.
    ///
    /// - Parameters:
    ///   - userID: The user.
    ///   - sealedSecret: The sealed secret.
    ///   - lastUsedStep: The newest step a code was accepted for (the enrolment's confirming code's).
    ///   - createdAt: When it was enrolled.
    public init(userID: String, sealedSecret: [UInt8], lastUsedStep: Int64? = nil, createdAt: Date = Date()) {
        self.userID = userID
        self.sealedSecret = sealedSecret
        self.lastUsedStep = lastUsedStep
        self.createdAt = createdAt.wholeMilliseconds
    }
}
