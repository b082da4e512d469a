import Foundation
import Synchronization

/// An ``AccountStore`` in process memory, for tests and single-process demos: everything is lost on restart.
///
/// Each operation holds one lock for its whole read-check-write, so each is atomic as the protocol asks.
public final class MemoryAccountStore: AccountStore, UserDirectory {
    private struct State {
        var users: [String: AuthUser] = [:]
        var userByEmail: [String: String] = [:]
        var accounts: [AccountKey: AuthAccount] = [:]
        var tokens: [VerificationToken] = []
        var authenticators: [[UInt8]: PasskeyAuthenticator] = [:]
        var leases: [AccountKey: Date] = [:]
        var totp: [String: TOTPEnrolment] = [:]
        var recoveryCodes: [String: Set<[UInt8]>] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty store.
    public init() {}

    public func user(id: String) async throws -> AuthUser? { state.withLock { $0.users[id] } }

    public func users(after cursor: String?, limit: Int) async throws -> [AuthUser] {
        let precedes: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return state.withLock { state in
            state.users.values.filter { user in cursor.map { precedes($0, user.id) } ?? true }
                .sorted { precedes($0.id, $1.id) }
                .prefix(max(1, limit))
                .map { $0 }
        }
    }

    public func user(email: String) async throws -> AuthUser? {
        state.withLock { state in state.userByEmail[email].flatMap { state.users[$0] } }
    }

    public func account(_ key: AccountKey) async throws -> AuthAccount? { state.withLock { $0.accounts[key] } }

    public func accounts(userID: String) async throws -> [AuthAccount] {
        state.withLock { $0.accounts.values.filter { $0.userID == userID }.sorted { ($0.createdAt, $0.key.description) < ($1.createdAt, $1.key.description) } }
    }

    public func createUser(_ user: AuthUser, account: AuthAccount?) async throws {
        try state.withLock { state in
            guard state.users[user.id] == nil else { throw AccountStoreError.userInUse }
            if let email = user.email, state.userByEmail[email] != nil { throw AccountStoreError.emailInUse }
            if let account, state.accounts[account.key] != nil { throw AccountStoreError.accountInUse }
            state.users[user.id] = user
            if let email = user.email { state.userByEmail[email] = user.id }
            if let account { state.accounts[account.key] = account }
        }
    }

    public func updateUser(_ user: AuthUser) async throws -> Bool {
        try state.withLock { state in
            guard let old = state.users[user.id] else { return false }
            if let email = user.email, let owner = state.userByEmail[email], owner != user.id { throw AccountStoreError.emailInUse }
            if let email = old.email { state.userByEmail[email] = nil }
            if let email = user.email { state.userByEmail[email] = user.id }
            state.users[user.id] = user
            return true
        }
    }

    public func deleteUser(id: String) async throws -> Bool {
        state.withLock { state in
            guard let user = state.users.removeValue(forKey: id) else { return false }
            if let email = user.email { state.userByEmail[email] = nil }
            state.accounts = state.accounts.filter { $0.value.userID != id }
            state.leases = state.leases.filter { state.accounts[$0.key] != nil }
            state.authenticators = state.authenticators.filter { $0.value.userID != id }
            state.totp[id] = nil
            state.recoveryCodes[id] = nil
            state.tokens.removeAll { $0.identifier == user.email || $0.identifier == VerificationToken.emailChangeIdentifier(userID: id) }
            return true
        }
    }

    public func linkAccount(_ account: AuthAccount) async throws -> Bool {
        try state.withLock { state in
            guard state.users[account.userID] != nil else { return false }
            guard state.accounts[account.key] == nil else { throw AccountStoreError.accountInUse }
            state.accounts[account.key] = account
            return true
        }
    }

    public func unlinkAccount(_ key: AccountKey, userID: String) async throws -> UnlinkOutcome {
        state.withLock { state in
            guard state.accounts[key]?.userID == userID else { return .notFound }
            let methods = state.accounts.values.count { $0.userID == userID } + state.authenticators.values.count { $0.userID == userID && $0.flaggedAt == nil }
            guard methods > 1 else { return .lastSignInMethod }
            state.accounts[key] = nil
            state.leases[key] = nil
            return .unlinked
        }
    }

    public func replaceTokens(_ key: AccountKey, expected: [UInt8]?, with tokens: [UInt8]?, needsReauthentication: Bool) async throws -> Bool {
        state.withLock { state in
            guard var account = state.accounts[key], account.sealedTokens == expected else { return false }
            account.sealedTokens = tokens
            account.needsReauthentication = needsReauthentication
            state.accounts[key] = account
            state.leases[key] = nil
            return true
        }
    }

    public func replacePasswordHash(_ key: AccountKey, expected: String?, with hash: String) async throws -> Bool {
        state.withLock { state in
            guard state.accounts[key] != nil, state.accounts[key]!.passwordHash == expected else { return false }
            state.accounts[key]!.passwordHash = hash
            return true
        }
    }

    public func claimTokenRefresh(_ key: AccountKey, until: Date, now: Date) async throws -> AuthAccount? {
        state.withLock { state in
            guard let account = state.accounts[key] else { return nil }
            if let lease = state.leases[key], lease > now { return nil }
            state.leases[key] = until
            return account
        }
    }

    public func releaseTokenRefresh(_ key: AccountKey) async throws {
        state.withLock { _ = $0.leases.removeValue(forKey: key) }
    }

    public func createVerificationToken(_ token: VerificationToken) async throws {
        state.withLock { $0.tokens.append(token) }
    }

    public func useVerificationToken(identifier: String, tokenHash: [UInt8], purpose: String, now: Date) async throws -> VerificationToken? {
        state.withLock { state in
            guard let index = state.tokens.firstIndex(where: {
                $0.identifier == identifier && $0.purpose == purpose && ConstantTime.equals($0.tokenHash, tokenHash)
            }) else { return nil }
            let token = state.tokens.remove(at: index)
            return token.expiresAt > now ? token : nil
        }
    }

    public func deleteVerificationTokens(identifier: String) async throws {
        state.withLock { $0.tokens.removeAll { $0.identifier == identifier } }
    }

    public func createAuthenticator(_ authenticator: PasskeyAuthenticator) async throws -> Bool {
        try state.withLock { state in
            guard state.users[authenticator.userID] != nil else { return false }
            guard state.authenticators[authenticator.credentialID] == nil else { throw AccountStoreError.authenticatorInUse }
            state.authenticators[authenticator.credentialID] = authenticator
            return true
        }
    }

    public func createUser(_ user: AuthUser, authenticator: PasskeyAuthenticator) async throws {
        try state.withLock { state in
            guard state.users[user.id] == nil else { throw AccountStoreError.userInUse }
            if let email = user.email, state.userByEmail[email] != nil { throw AccountStoreError.emailInUse }
            guard state.authenticators[authenticator.credentialID] == nil else { throw AccountStoreError.authenticatorInUse }
            state.users[user.id] = user
            if let email = user.email { state.userByEmail[email] = user.id }
            state.authenticators[authenticator.credentialID] = authenticator
        }
    }

    public func authenticator(credentialID: [UInt8]) async throws -> PasskeyAuthenticator? {
        state.withLock { $0.authenticators[credentialID] }
    }

    public func authenticators(userID: String) async throws -> [PasskeyAuthenticator] {
        state.withLock { $0.authenticators.values.filter { $0.userID == userID }.sorted { $0.createdAt < $1.createdAt } }
    }

    public func recordAuthenticatorUse(credentialID: [UInt8], expectedCounter: UInt32, counter: UInt32, backedUp: Bool, at date: Date) async throws -> Bool {
        state.withLock { state in
            guard var passkey = state.authenticators[credentialID], passkey.counter == expectedCounter, passkey.flaggedAt == nil else { return false }
            passkey.counter = counter
            passkey.backedUp = backedUp
            passkey.lastUsedAt = date.wholeMilliseconds
            state.authenticators[credentialID] = passkey
            return true
        }
    }

    public func flagAuthenticator(credentialID: [UInt8], at date: Date) async throws -> Bool {
        state.withLock { state in
            guard var passkey = state.authenticators[credentialID] else { return false }
            if passkey.flaggedAt == nil {
                passkey.flaggedAt = date.wholeMilliseconds
                state.authenticators[credentialID] = passkey
            }
            return true
        }
    }

    public func renameAuthenticator(credentialID: [UInt8], userID: String, name: String?) async throws -> Bool {
        state.withLock { state in
            guard state.authenticators[credentialID]?.userID == userID else { return false }
            state.authenticators[credentialID]!.name = name
            return true
        }
    }

    public func deleteAuthenticator(credentialID: [UInt8], userID: String) async throws -> UnlinkOutcome {
        state.withLock { state in
            guard let target = state.authenticators[credentialID], target.userID == userID else { return .notFound }
            // A flagged passkey signs nobody in: removing it never removes a way in, and it is not counted as one.
            if target.flaggedAt != nil {
                state.authenticators[credentialID] = nil
                return .unlinked
            }
            let methods = state.accounts.values.count { $0.userID == userID } + state.authenticators.values.count { $0.userID == userID && $0.flaggedAt == nil }
            guard methods > 1 else { return .lastSignInMethod }
            state.authenticators[credentialID] = nil
            return .unlinked
        }
    }

    public func totpEnrolment(userID: String) async throws -> TOTPEnrolment? { state.withLock { $0.totp[userID] } }

    public func saveTOTPEnrolment(_ enrolment: TOTPEnrolment, recoveryCodeHashes: [[UInt8]]) async throws -> Bool {
        state.withLock { state in
            guard state.users[enrolment.userID] != nil else { return false }
            state.totp[enrolment.userID] = enrolment
            state.recoveryCodes[enrolment.userID] = Set(recoveryCodeHashes)
            return true
        }
    }

    public func deleteTOTPEnrolment(userID: String) async throws -> Bool {
        state.withLock { state in
            state.recoveryCodes[userID] = nil
            return state.totp.removeValue(forKey: userID) != nil
        }
    }

    public func useTOTPStep(userID: String, step: Int64) async throws -> Bool {
        state.withLock { state in
            guard let enrolment = state.totp[userID], (enrolment.lastUsedStep ?? .min) < step else { return false }
            state.totp[userID]!.lastUsedStep = step
            return true
        }
    }

    public func useRecoveryCode(userID: String, codeHash: [UInt8]) async throws -> Bool {
        state.withLock { state in state.recoveryCodes[userID]?.remove(codeHash) != nil }
    }

    public func replaceRecoveryCodes(userID: String, hashes: [[UInt8]]) async throws -> Bool {
        state.withLock { state in
            guard state.totp[userID] != nil else { return false }
            state.recoveryCodes[userID] = Set(hashes)
            return true
        }
    }

    public func recoveryCodeCount(userID: String) async throws -> Int { state.withLock { $0.recoveryCodes[userID]?.count ?? 0 } }
}
