import Foundation
import Tracing

/// An account store whose every call is timed and whose failures are counted
/// (`sesame_store_operation_duration_seconds` and `sesame_store_failures_total`, labelled with the wrapped store's
/// type name and the operation in snake case: `user`, `record_sign_in`, `use_verification_token`, …).
///
/// Wrap the store once and give the wrapper to ``Accounts``, ``PasswordAccounts``, ``Passkeys`` and
/// ``SecondFactors``:
///
/// ```swift
/// let store = MeasuredAccountStore(SQLiteAccountStore(…), metrics: SesameMetrics())
/// ```
public struct MeasuredAccountStore: AccountStore {
    /// The store that does the work.
    public let base: any AccountStore
    /// The `store` label: the wrapped store's type name, for example `PostgresAccountStore`.
    public let name: String
    private let operations: [StoreOperationMetrics]

    private static let operationNames = [
        "user", "account", "accounts", "account_and_user", "record_sign_in", "create_user", "update_user",
        "delete_user", "link_account", "unlink_account", "replace_tokens", "replace_password_hash",
        "claim_token_refresh", "release_token_refresh", "create_verification_token", "use_verification_token",
        "delete_verification_tokens", "create_authenticator", "authenticator", "authenticators",
        "record_authenticator_use", "flag_authenticator", "rename_authenticator", "delete_authenticator",
        "totp_enrolment", "save_totp_enrolment", "delete_totp_enrolment", "use_totp_step", "use_recovery_code",
        "replace_recovery_codes", "recovery_code_count"
    ]

    /// Wraps `base`.
    ///
    /// - Parameters:
    ///   - base: The store to measure (a store that is already measured is not wrapped twice).
    ///   - metrics: Where the timings and failures go.
    ///   - tracer: Where each call's `sesame.store.OPERATION` span goes (default: the tracer
    ///     `InstrumentationSystem.bootstrap` installed; `nil` for none).
    public init(_ base: any AccountStore, metrics: SesameMetrics, tracer: (any Tracer)? = InstrumentationSystem.tracer) {
        if let measured = base as? MeasuredAccountStore {
            self.base = measured.base
            self.name = measured.name
        } else {
            self.base = base
            self.name = String(describing: type(of: base))
        }
        let name = self.name
        operations = Self.operationNames.map { metrics.storeOperation(store: name, operation: $0, tracer: tracer is NoOpTracer ? nil : tracer) }
    }

    public func user(id: String) async throws -> AuthUser? {
        try await operations[0].measure { try await base.user(id: id) }
    }

    public func user(email: String) async throws -> AuthUser? {
        try await operations[0].measure { try await base.user(email: email) }
    }

    public func account(_ key: AccountKey) async throws -> AuthAccount? {
        try await operations[1].measure { try await base.account(key) }
    }

    public func accounts(userID: String) async throws -> [AuthAccount] {
        try await operations[2].measure { try await base.accounts(userID: userID) }
    }

    public func accountAndUser(_ key: AccountKey) async throws -> (account: AuthAccount, user: AuthUser?)? {
        try await operations[3].measure { try await base.accountAndUser(key) }
    }

    public func recordSignIn(_ key: AccountKey, tokens: [UInt8]) async throws -> (account: AuthAccount, user: AuthUser?)? {
        try await operations[4].measure { try await base.recordSignIn(key, tokens: tokens) }
    }

    public func createUser(_ user: AuthUser, account: AuthAccount?) async throws {
        try await operations[5].measure { try await base.createUser(user, account: account) }
    }

    public func updateUser(_ user: AuthUser) async throws -> Bool {
        try await operations[6].measure { try await base.updateUser(user) }
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await operations[7].measure { try await base.deleteUser(id: id) }
    }

    public func linkAccount(_ account: AuthAccount) async throws -> Bool {
        try await operations[8].measure { try await base.linkAccount(account) }
    }

    public func unlinkAccount(_ key: AccountKey, userID: String) async throws -> UnlinkOutcome {
        try await operations[9].measure { try await base.unlinkAccount(key, userID: userID) }
    }

    public func replaceTokens(_ key: AccountKey, expected: [UInt8]?, with tokens: [UInt8]?, needsReauthentication: Bool) async throws -> Bool {
        try await operations[10].measure { try await base.replaceTokens(key, expected: expected, with: tokens, needsReauthentication: needsReauthentication) }
    }

    public func replacePasswordHash(_ key: AccountKey, expected: String?, with hash: String) async throws -> Bool {
        try await operations[11].measure { try await base.replacePasswordHash(key, expected: expected, with: hash) }
    }

    public func claimTokenRefresh(_ key: AccountKey, until: Date, now: Date) async throws -> AuthAccount? {
        try await operations[12].measure { try await base.claimTokenRefresh(key, until: until, now: now) }
    }

    public func releaseTokenRefresh(_ key: AccountKey) async throws {
        try await operations[13].measure { try await base.releaseTokenRefresh(key) }
    }

    public func createVerificationToken(_ token: VerificationToken) async throws {
        try await operations[14].measure { try await base.createVerificationToken(token) }
    }

    public func useVerificationToken(identifier: String, tokenHash: [UInt8], purpose: String, now: Date) async throws -> VerificationToken? {
        try await operations[15].measure { try await base.useVerificationToken(identifier: identifier, tokenHash: tokenHash, purpose: purpose, now: now) }
    }

    public func deleteVerificationTokens(identifier: String) async throws {
        try await operations[16].measure { try await base.deleteVerificationTokens(identifier: identifier) }
    }

    public func createAuthenticator(_ authenticator: PasskeyAuthenticator) async throws -> Bool {
        try await operations[17].measure { try await base.createAuthenticator(authenticator) }
    }

    public func createUser(_ user: AuthUser, authenticator: PasskeyAuthenticator) async throws {
        try await operations[5].measure { try await base.createUser(user, authenticator: authenticator) }
    }

    public func authenticator(credentialID: [UInt8]) async throws -> PasskeyAuthenticator? {
        try await operations[18].measure { try await base.authenticator(credentialID: credentialID) }
    }

    public func authenticators(userID: String) async throws -> [PasskeyAuthenticator] {
        try await operations[19].measure { try await base.authenticators(userID: userID) }
    }

    public func recordAuthenticatorUse(credentialID: [UInt8], expectedCounter: UInt32, counter: UInt32, backedUp: Bool, at date: Date) async throws -> Bool {
        try await operations[20].measure { try await base.recordAuthenticatorUse(credentialID: credentialID, expectedCounter: expectedCounter, counter: counter, backedUp: backedUp, at: date) }
    }

    public func flagAuthenticator(credentialID: [UInt8], at date: Date) async throws -> Bool {
        try await operations[21].measure { try await base.flagAuthenticator(credentialID: credentialID, at: date) }
    }

    public func renameAuthenticator(credentialID: [UInt8], userID: String, name: String?) async throws -> Bool {
        try await operations[22].measure { try await base.renameAuthenticator(credentialID: credentialID, userID: userID, name: name) }
    }

    public func deleteAuthenticator(credentialID: [UInt8], userID: String) async throws -> UnlinkOutcome {
        try await operations[23].measure { try await base.deleteAuthenticator(credentialID: credentialID, userID: userID) }
    }

    public func totpEnrolment(userID: String) async throws -> TOTPEnrolment? {
        try await operations[24].measure { try await base.totpEnrolment(userID: userID) }
    }

    public func saveTOTPEnrolment(_ enrolment: TOTPEnrolment, recoveryCodeHashes: [[UInt8]]) async throws -> Bool {
        try await operations[25].measure { try await base.saveTOTPEnrolment(enrolment, recoveryCodeHashes: recoveryCodeHashes) }
    }

    public func deleteTOTPEnrolment(userID: String) async throws -> Bool {
        try await operations[26].measure { try await base.deleteTOTPEnrolment(userID: userID) }
    }

    public func useTOTPStep(userID: String, step: Int64) async throws -> Bool {
        try await operations[27].measure { try await base.useTOTPStep(userID: userID, step: step) }
    }

    public func useRecoveryCode(userID: String, codeHash: [UInt8]) async throws -> Bool {
        try await operations[28].measure { try await base.useRecoveryCode(userID: userID, codeHash: codeHash) }
    }

    public func replaceRecoveryCodes(userID: String, hashes: [[UInt8]]) async throws -> Bool {
        try await operations[29].measure { try await base.replaceRecoveryCodes(userID: userID, hashes: hashes) }
    }

    public func recoveryCodeCount(userID: String) async throws -> Int {
        try await operations[30].measure { try await base.recoveryCodeCount(userID: userID) }
    }
}
