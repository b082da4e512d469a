import Foundation

/// Where users and their accounts live: the operations Auth.js's adapter methods answer (see
/// `docs/authjs-compatibility.md`), each atomic.
///
/// Implementations: ``MemoryAccountStore``, `SQLiteAccountStore` (the embedded default) and
/// `PostgresAccountStore`; one behavioural suite runs against all three. Emails are compared in their
/// normalised form (``AuthUser/email``). A store that cannot be reached throws ``SessionStoreError/unavailable(_:)``
/// and changes nothing.
public protocol AccountStore: Sendable {
    /// The user with an ID, if any.
    func user(id: String) async throws -> AuthUser?
    /// The user with a normalised email address, if any.
    func user(email: String) async throws -> AuthUser?
    /// The account with a key, if any.
    func account(_ key: AccountKey) async throws -> AuthAccount?
    /// A user's accounts, oldest first.
    func accounts(userID: String) async throws -> [AuthAccount]
    /// The account with a key and its user (`nil` when missing), or `nil` when there is no such account: what a
    /// returning user's sign-in reads (a default implementation asks ``account(_:)`` then ``user(id:)``).
    func accountAndUser(_ key: AccountKey) async throws -> (account: AuthAccount, user: AuthUser?)?
    /// A returning sign-in: replaces the account's sealed tokens with the ones the sign-in brought (clearing
    /// ``AuthAccount/needsReauthentication`` and any refresh lease) and returns the account, as written, with its
    /// user. A default implementation reads, then replaces by compare-and-swap; stores that can do both in one
    /// statement override it.
    ///
    /// - Returns: `nil` when there is no such account (nothing is written).
    func recordSignIn(_ key: AccountKey, tokens: [UInt8]) async throws -> (account: AuthAccount, user: AuthUser?)?

    /// Creates a user and, in the same transaction, its first account: both or neither.
    ///
    /// - Throws: ``AccountStoreError/emailInUse`` or ``AccountStoreError/accountInUse`` (and nothing is written).
    func createUser(_ user: AuthUser, account: AuthAccount?) async throws
    /// Replaces a user's fields.
    ///
    /// - Returns: `false` when there is no such user.
    /// - Throws: ``AccountStoreError/emailInUse`` when another user has the new address.
    func updateUser(_ user: AuthUser) async throws -> Bool
    /// Deletes a user with its accounts, passkeys and verification tokens.
    ///
    /// - Returns: `false` when there was no such user.
    func deleteUser(id: String) async throws -> Bool

    /// Links an account to its user.
    ///
    /// - Returns: `false` when the user does not exist (nothing is written).
    /// - Throws: ``AccountStoreError/accountInUse`` when the key is linked already.
    func linkAccount(_ account: AuthAccount) async throws -> Bool
    /// Unlinks one of a user's accounts, unless it is the user's last way to sign in (accounts and passkeys that are
    /// not flagged counted together, in the same transaction).
    func unlinkAccount(_ key: AccountKey, userID: String) async throws -> UnlinkOutcome
    /// Replaces an account's sealed tokens if they are still `expected` (compare-and-swap), so that of several
    /// processes refreshing at once, one wins.
    ///
    /// - Returns: `false` when the account is gone or its tokens changed meanwhile.
    func replaceTokens(_ key: AccountKey, expected: [UInt8]?, with tokens: [UInt8]?, needsReauthentication: Bool) async throws -> Bool
    /// Replaces a password account's hash if it is still `expected` (compare-and-swap): a rehash after a sign-in
    /// never overwrites a password changed meanwhile.
    ///
    /// - Returns: `false` when the account is gone or its hash changed meanwhile.
    func replacePasswordHash(_ key: AccountKey, expected: String?, with hash: String) async throws -> Bool
    /// Takes the account's refresh lease until `until`, unless a lease taken by someone else is still live at `now`:
    /// of several processes that find the same expired token, one refreshes it. ``replaceTokens(_:expected:with:needsReauthentication:)``
    /// and ``releaseTokenRefresh(_:)`` end the lease.
    ///
    /// - Returns: The account as it is now when the lease was taken; `nil` when it is held or the account is gone.
    func claimTokenRefresh(_ key: AccountKey, until: Date, now: Date) async throws -> AuthAccount?
    /// Ends the account's refresh lease without changing its tokens (the refresh failed).
    func releaseTokenRefresh(_ key: AccountKey) async throws

    /// Stores a verification token's record.
    func createVerificationToken(_ token: VerificationToken) async throws
    /// Consumes a token: deletes and returns its record when it exists for this identifier and purpose and has not
    /// expired; of two concurrent callers, one gets it.
    func useVerificationToken(identifier: String, tokenHash: [UInt8], purpose: String, now: Date) async throws -> VerificationToken?
    /// Deletes every token issued to an identifier (a newer one replaces them).
    func deleteVerificationTokens(identifier: String) async throws

    /// Registers a passkey.
    ///
    /// - Returns: `false` when the user does not exist.
    /// - Throws: ``AccountStoreError/authenticatorInUse`` when the credential ID is registered already.
    func createAuthenticator(_ authenticator: PasskeyAuthenticator) async throws -> Bool
    /// Creates a user and, in the same transaction, their first passkey (a passkey-first sign-up): both or neither.
    ///
    /// - Throws: ``AccountStoreError/emailInUse``, ``AccountStoreError/userInUse`` or
    ///   ``AccountStoreError/authenticatorInUse`` (and nothing is written).
    func createUser(_ user: AuthUser, authenticator: PasskeyAuthenticator) async throws
    /// The passkey with a credential ID, if any.
    func authenticator(credentialID: [UInt8]) async throws -> PasskeyAuthenticator?
    /// A user's passkeys, oldest first.
    func authenticators(userID: String) async throws -> [PasskeyAuthenticator]
    /// Records a passkey's sign-in: its new signature counter, backup state and ``PasskeyAuthenticator/lastUsedAt``,
    /// only while its counter is still `expectedCounter` and it is not flagged (compare-and-swap): of several
    /// sign-ins that read the same counter, one wins.
    ///
    /// - Returns: `false` when there is no such passkey, it is flagged, or its counter changed meanwhile (nothing
    ///   is written).
    func recordAuthenticatorUse(credentialID: [UInt8], expectedCounter: UInt32, counter: UInt32, backedUp: Bool, at date: Date) async throws -> Bool
    /// Flags a passkey whose signature counter went backwards (``PasskeyAuthenticator/flaggedAt``), keeping the
    /// first time when it is flagged already.
    ///
    /// - Returns: `false` when there is no such passkey.
    func flagAuthenticator(credentialID: [UInt8], at date: Date) async throws -> Bool
    /// Renames one of a user's passkeys (`nil` removes the name).
    ///
    /// - Returns: `false` when the user has no such passkey (another user's is left unchanged).
    func renameAuthenticator(credentialID: [UInt8], userID: String, name: String?) async throws -> Bool
    /// Deletes one of a user's passkeys, unless it is the user's last way to sign in (accounts and passkeys that are
    /// not flagged counted together, in the same transaction, as ``unlinkAccount(_:userID:)`` counts them). A flagged
    /// passkey signs nobody in: it is always deleted, and never counted as a way in.
    func deleteAuthenticator(credentialID: [UInt8], userID: String) async throws -> UnlinkOutcome

    /// A user's authenticator-app enrolment, if any.
    func totpEnrolment(userID: String) async throws -> TOTPEnrolment?
    /// Enrols an authenticator app with a new set of recovery code hashes, replacing any earlier enrolment and codes,
    /// in one transaction.
    ///
    /// - Returns: `false` when the user does not exist (nothing is written).
    func saveTOTPEnrolment(_ enrolment: TOTPEnrolment, recoveryCodeHashes: [[UInt8]]) async throws -> Bool
    /// Removes a user's enrolment and recovery codes.
    ///
    /// - Returns: `false` when there was no enrolment.
    func deleteTOTPEnrolment(userID: String) async throws -> Bool
    /// Records that a code for `step` was accepted, unless one for this or a later step was already: of two
    /// requests with the same code, one wins.
    ///
    /// - Returns: `false` when the step was used already (or there is no enrolment).
    func useTOTPStep(userID: String, step: Int64) async throws -> Bool
    /// Uses up one recovery code: deletes its hash; of two requests with the same code, one wins.
    ///
    /// - Returns: `false` when the user has no such unused code.
    func useRecoveryCode(userID: String, codeHash: [UInt8]) async throws -> Bool
    /// Replaces a user's recovery codes (the old ones stop working).
    ///
    /// - Returns: `false` when the user has no enrolment (nothing is written).
    func replaceRecoveryCodes(userID: String, hashes: [[UInt8]]) async throws -> Bool
    /// How many unused recovery codes a user has.
    func recoveryCodeCount(userID: String) async throws -> Int
}

extension AccountStore {
    /// The account with a key and its user, for a sign-in: stores that can read both at once (one query) override
    /// it; this default asks twice.
    ///
    /// - Returns: The account and its user (`nil` when the user is missing), or `nil` when there is no such account.
    public func accountAndUser(_ key: AccountKey) async throws -> (account: AuthAccount, user: AuthUser?)? {
        guard let account = try await account(key) else { return nil }
        return (account, try await user(id: account.userID))
    }

    public func recordSignIn(_ key: AccountKey, tokens: [UInt8]) async throws -> (account: AuthAccount, user: AuthUser?)? {
        for _ in 0..<3 {
            guard var (account, user) = try await accountAndUser(key) else { return nil }
            if try await replaceTokens(key, expected: account.sealedTokens, with: tokens, needsReauthentication: false) {
                account.sealedTokens = tokens
                account.needsReauthentication = false
                return (account, user)
            }
        }
        throw SessionStoreError.unavailable("the account's tokens kept changing")
    }
}

/// What ``AccountStore/unlinkAccount(_:userID:)`` or ``AccountStore/deleteAuthenticator(credentialID:userID:)`` did.
public enum UnlinkOutcome: Sendable, Equatable {
    /// The account was unlinked (or the passkey deleted).
    case unlinked
    /// The user has no such account (or passkey).
    case notFound
    /// The account (or passkey) is the user's last way to sign in: nothing changed.
    case lastSignInMethod
}

/// A write an ``AccountStore`` refused because it would break a uniqueness rule; nothing was written.
public enum AccountStoreError: Error, Sendable, Equatable {
    /// Another user has the address.
    case emailInUse
    /// The provider identity is linked (to this or another user) already.
    case accountInUse
    /// The user ID exists already.
    case userInUse
    /// The passkey's credential ID is registered already.
    case authenticatorInUse
}
