import Foundation

/// How an account proves who someone is: Auth.js's account types.
public enum AccountType: String, Sendable, Hashable, CaseIterable {
    /// An OAuth 2.0 provider (identified by its user-info ID).
    case oauth
    /// An OpenID Connect provider (identified by issuer and `sub`).
    case oidc
    /// A sign-in link sent to an address.
    case email
    /// A password or the app's own credential check.
    case credentials
    /// A passkey.
    case webauthn
}

/// Which provider identity an account is: the provider's name, the issuer (for OpenID Connect; empty otherwise)
/// and the provider's ID for the person (OpenID Connect's `sub`, never the email address).
public struct AccountKey: Sendable, Hashable, CustomStringConvertible {
    /// The provider's name in the ``AuthHandler``.
    public let provider: String
    /// The issuer that vouches for the ID (OpenID Connect's `iss`), or empty.
    public let issuer: String
    /// The provider's ID for the person.
    public let providerAccountID: String

    /// Creates a key.
    ///
    /// - Parameters:
    ///   - provider: The provider's name.
    ///   - issuer: The issuer, or empty when the provider has none.
    ///   - providerAccountID: The provider's ID for the person.
    public init(provider: String, issuer: String = "", providerAccountID: String) {
        self.provider = provider
        self.issuer = issuer
        self.providerAccountID = providerAccountID
    }

    public var description: String { issuer.isEmpty ? "\(provider):\(providerAccountID)" : "\(provider):\(issuer):\(providerAccountID)" }
}

/// A user's link to a way of signing in: Auth.js's `Account`.
///
/// The provider's tokens are kept sealed (AES-GCM under a key derived from the key set, bound to the account's
/// key): stores see ciphertext only, and no Sesame response carries them. Read them with
/// ``Accounts/accessToken(userID:provider:)`` or ``Accounts/providerTokens(userID:provider:)``.
public struct AuthAccount: Sendable, Hashable {
    /// Which provider identity this is.
    public let key: AccountKey
    /// The user the account belongs to.
    public let userID: String
    /// The kind of account.
    public let type: AccountType
    /// The provider's tokens, sealed; `nil` when the provider issued none.
    public var sealedTokens: [UInt8]?
    /// Whether the provider refused to refresh the tokens (`invalid_grant`): the user must sign in with it again.
    public var needsReauthentication: Bool
    /// The password hash of a password account (a PHC string such as `$scrypt$…`, or an imported bcrypt hash);
    /// `nil` for every other kind. Never shown: ``PasswordAccounts`` reads it.
    public var passwordHash: String?
    /// When the account was linked.
    public let createdAt: Date

    /// Creates an account record.
    ///
    /// - Parameters:
    ///   - key: The provider identity.
    ///   - userID: The owner.
    ///   - type: The kind of account.
    ///   - sealedTokens: The sealed tokens, if any.
    ///   - needsReauthentication: Whether a refresh was refused.
    ///   - passwordHash: A password account's hash.
    ///   - createdAt: When it was linked.
    public init(
        key: AccountKey, userID: String, type: AccountType, sealedTokens: [UInt8]? = nil, needsReauthentication: Bool = false,
        passwordHash: String? = nil, createdAt: Date = Date()
    ) {
        self.key = key
        self.userID = userID
        self.type = type
        self.sealedTokens = sealedTokens
        self.needsReauthentication = needsReauthentication
        self.passwordHash = passwordHash
        self.createdAt = createdAt.wholeMilliseconds
    }
}
