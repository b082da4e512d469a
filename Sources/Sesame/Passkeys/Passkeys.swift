import Crypto
import Foundation
import HTTPTypes

/// Passkeys (WebAuthn Level 3) on an ``AccountStore``: the options and the verification of both ceremonies, a new
/// user's first passkey after an emailed code, further passkeys for a signed-in user, discoverable sign-in (and
/// browser autofill), the second factor after a password, and the passkey list (rename, delete, never the last way
/// to sign in).
///
/// ```swift
/// let passkeys = Passkeys(store: store, keys: keys, baseURL: "https://example.com", replay: replay,
///                         configuration: PasskeyConfiguration(relyingPartyName: "Example"))
/// // A signed-in user adds one: options to the browser, then its answer back.
/// let options = try await passkeys.registrationOptions(for: user)  // options.response
/// let passkey = try await passkeys.register(request, user: user, name: "Laptop")
/// ```
///
/// Every ceremony's state (a 32-byte challenge, what it is for and for whom) travels sealed in a five-minute,
/// single-use cookie; verification redeems it in the replay store before it checks anything else, so a response
/// is accepted once.
public struct Passkeys: Sendable {
    /// The store.
    public let store: any AccountStore
    /// The relying party and its policies.
    public let configuration: PasskeyConfiguration
    /// The relying party ID in use.
    public let relyingPartyID: String
    /// The accepted origins: the base URL's and the configured ones.
    public let origins: Set<String>
    /// Sign-up codes per address (default: 5 at once, then one a minute).
    public let perAddress: any RateLimiter
    /// Seals and opens the ceremonies' state (derived from the key set once).
    let challengeSealer: PurposeSealer
    /// Stored passkeys' public keys, parsed once per thread (a P-256 point's validation costs as much as a tenth of
    /// its signature check), by credential ID; a cached key is used only while its bytes are the stored ones.
    let verificationKeys = ThreadShardedMemo<[UInt8], COSEKey>(limitPerShard: 256)
    /// SHA-256 of the relying party ID, which authenticator data must start with.
    let relyingPartyIDHash: [UInt8]
    let replay: any ReplayStore
    let baseURL: String
    let now: @Sendable () -> Date
    /// Where passkeys added and removed are recorded.
    let audit: AuditLog

    /// How long a sign-up code is accepted, in seconds.
    static let signUpCodeLifetime: Double = 900
    static let signUpPurpose = "passkey-signup"

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - store: Where users and passkeys live.
    ///   - keys: The key set the ceremony state's sealing key is derived from.
    ///   - baseURL: The site's base URL: its origin is accepted and its host is the default relying party ID.
    ///   - replay: Where challenges are redeemed once: the handler's (`MemoryReplayStore` for one process; a shared
    ///     store, such as Redis's, when several instances serve the site).
    ///   - configuration: The relying party and its policies.
    ///   - perAddress: Sign-up code requests and attempts per address.
    ///   - audit: Where `passkey_added` and `passkey_removed` are recorded (default: swift-log).
    ///   - now: The clock.
    public init(
        store: any AccountStore, keys: KeySet, baseURL: String, replay: any ReplayStore, configuration: PasskeyConfiguration,
        perAddress: any RateLimiter = MemoryRateLimiter(capacity: 5, refillInterval: 60), audit: AuditLog = AuditLog(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audit = audit
        self.store = store
        self.challengeSealer = PasskeyChallenge.sealer(keys: keys)
        self.baseURL = baseURL
        self.replay = replay
        self.configuration = configuration
        self.perAddress = perAddress
        self.now = now
        let components = URLComponents(string: baseURL)
        relyingPartyID = configuration.relyingPartyID ?? components?.host ?? "localhost"
        relyingPartyIDHash = Array(SHA256.hash(data: Array(relyingPartyID.utf8)))
        var origins = configuration.origins
        if let scheme = components?.scheme, let host = components?.host {
            origins.insert("\(scheme)://\(host)" + (components?.port.map { ":\($0)" } ?? ""))
        }
        self.origins = origins
    }

    // MARK: Registration

    /// Options for a signed-in user's further passkey (check a recent sign-in first: adding a way in is sensitive).
    ///
    /// - Parameter user: The signed-in user.
    /// - Returns: The options and their challenge cookie.
    /// - Throws: ``AuthError/emailNotVerified`` for a user whose address nobody proved (a passkey added to an account
    ///   someone registered with another person's address would outlive that person's password reset),
    ///   ``AuthError/tooManyPasskeys``, or ``AuthError/unavailable`` when the store cannot be reached.
    public func registrationOptions(for user: AuthUser) async throws -> PasskeyOptions {
        guard user.email == nil || user.emailVerified != nil else { throw AuthError.emailNotVerified.with(detail: "verify your address before adding a passkey") }
        let existing = try await storeErrors { try await store.authenticators(userID: user.id) }
        guard existing.count < configuration.maximumPerUser else { throw AuthError.tooManyPasskeys }
        let challenge = PasskeyChallenge(purpose: .add, userID: user.id, lifetime: configuration.challengeLifetime, now: now())
        return try creationOptions(challenge, userName: user.email ?? user.name ?? user.id, displayName: user.name ?? user.email ?? "", exclude: existing)
    }

    /// Verifies a signed-in user's new passkey and stores it.
    ///
    /// - Parameters:
    ///   - request: The request carrying the credential JSON (the body, or its `data` field) and the challenge cookie.
    ///   - user: The signed-in user, who must be the one the options were issued to.
    ///   - name: A name for the passkey.
    /// - Returns: The stored passkey.
    /// - Throws: ``AuthError`` with the failed check's code.
    public func register(_ request: AuthRequest, user: AuthUser, name: String? = nil) async throws -> PasskeyAuthenticator {
        let (challenge, credential) = try await redeem(request, registration: true)
        guard challenge.purpose == .add, challenge.userID == user.id else { throw AuthError.passkeyChallengeExpired.with(detail: "the ceremony was for another purpose or user") }
        guard user.email == nil || user.emailVerified != nil else { throw AuthError.emailNotVerified.with(detail: "verify your address before adding a passkey") }
        let passkey = try verifyRegistration(credential, challenge: challenge, userID: user.id, name: name)
        try await storeErrors {
            guard try await store.authenticators(userID: user.id).count < configuration.maximumPerUser else { throw AuthError.tooManyPasskeys }
            do {
                guard try await store.createAuthenticator(passkey) else { throw AuthError.passkeyUnknownCredential.with(detail: "the user is gone") }
            } catch AccountStoreError.authenticatorInUse {
                throw AuthError.passkeyInUse
            }
        }
        await audit.record(.passkeyAdded, userID: user.id)
        return passkey
    }

    /// The answer to a sign-up request, to deliver by email.
    public enum SignUpMessage: Sendable {
        /// A new address: the code that proves it.
        case code(to: String, code: String)
        /// The address has an account already: tell its owner, and nothing else.
        case addressInUse(to: String)
    }

    /// Admits a passkey-first sign-up request: checks the address and takes the client's and the address's limits.
    /// The message itself comes from ``signUpMessage(email:)``, which the caller runs after answering (the answer
    /// must not tell, by its content or its time, which addresses have accounts).
    ///
    /// - Parameters:
    ///   - email: The address.
    ///   - client: The client's IP address, for its limit.
    /// - Returns: The normalised address.
    /// - Throws: ``AuthError/invalidRequest`` for a malformed address, ``AuthError/rateLimited``.
    public func admitSignUp(email: String, client: String?) async throws -> String {
        guard let email = EmailAddress.normalized(email) else { throw AuthError.invalidRequest.with(detail: "the email address is not valid") }
        if let client { try await configuration.perClient.take("passkey-client:" + RateLimitKey.client(client)) }
        try await perAddress.take("passkey-signup:" + email)
        return email
    }

    /// The sign-up message for an admitted address: a new code (replacing any earlier one), or a notice to the
    /// owner of an address that has an account.
    ///
    /// - Parameter email: The normalised address ``admitSignUp(email:client:)`` returned.
    public func signUpMessage(email: String) async throws -> SignUpMessage {
        try await storeErrors {
            if try await store.user(email: email) != nil { return .addressInUse(to: email) }
            let identifier = Self.signUpPurpose + ":" + email
            try await store.deleteVerificationTokens(identifier: identifier)
            let code = String(format: "%08d", UInt32.random(in: 0..<100_000_000))
            try await store.createVerificationToken(VerificationToken(
                identifier: identifier, tokenHash: Self.codeHash(code, email: email), expiresAt: now().addingTimeInterval(Self.signUpCodeLifetime),
                purpose: Self.signUpPurpose))
            return .code(to: email, code: code)
        }
    }

    /// Redeems a sign-up code and returns the options for the new user's first passkey. The code is used up: if the
    /// browser's prompt is cancelled, asking again with the challenge cookie (with or without the spent code) renews
    /// the challenge until the first one's deadline.
    ///
    /// - Parameters:
    ///   - email: The address the code was sent to.
    ///   - code: The code, or `nil` to renew a ceremony the request's cookie holds.
    ///   - name: The new user's name.
    ///   - request: The request (its challenge cookie, for a renewal).
    /// - Returns: The options and their challenge cookie.
    /// - Throws: ``AuthError/invalidVerification`` for a wrong, used or expired code, ``AuthError/rateLimited``.
    public func signUpOptions(email: String, code: String?, name: String?, request: AuthRequest) async throws -> PasskeyOptions {
        guard let email = EmailAddress.normalized(email) else { throw AuthError.invalidRequest.with(detail: "the email address is not valid") }
        let challenge: PasskeyChallenge
        if let pending = openChallenge(request), pending.purpose == .signUp, pending.email == email {
            // The cookie already proves the code (which was used up): a new challenge for the same sign-up, after a
            // cancelled or failed prompt, until the first one's deadline.
            challenge = pending.renewed()
        } else if let code, !code.isEmpty {
            if let client = request.clientAddress { try await configuration.perClient.take("passkey-client:" + RateLimitKey.client(client)) }
            try await perAddress.take("passkey-code:" + email)
            let digits = code.filter { !$0.isWhitespace && $0 != "-" }
            try await storeErrors {
                guard digits.count == 8, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                    try await store.useVerificationToken(
                        identifier: Self.signUpPurpose + ":" + email, tokenHash: Self.codeHash(digits, email: email), purpose: Self.signUpPurpose, now: now()) != nil
                else { throw AuthError.invalidVerification }
            }
            challenge = PasskeyChallenge(
                purpose: .signUp, userID: AuthUser(email: email).id, email: email, name: Self.cleanName(name), lifetime: configuration.challengeLifetime, now: now())
        } else {
            throw AuthError.invalidVerification
        }
        return try creationOptions(challenge, userName: email, displayName: challenge.name ?? email, exclude: [])
    }

    /// A verified passkey-first sign-up, not written yet: the user (their address proved by the code) and the passkey.
    public struct SignUp: Sendable {
        /// The new user.
        public let user: AuthUser
        /// Their first passkey.
        public let passkey: PasskeyAuthenticator
    }

    /// Verifies a new user's first passkey, writing nothing: ``PasskeyProvider`` hands the result to the handler, whose
    /// `signIn` callback runs before ``Accounts/signIn(provider:type:identity:signedInUserID:)`` creates the user
    /// (``create(_:in:)``).
    ///
    /// - Parameter request: The request carrying the credential and the sign-up ceremony's cookie.
    /// - Returns: The user and passkey to create.
    /// - Throws: ``AuthError`` with the failed check's code.
    public func verifySignUp(_ request: AuthRequest) async throws -> SignUp {
        let (challenge, credential) = try await redeem(request, registration: true)
        guard challenge.purpose == .signUp, let userID = challenge.userID, let email = challenge.email else {
            throw AuthError.passkeyChallengeExpired.with(detail: "the ceremony was not a sign-up")
        }
        let passkey = try verifyRegistration(credential, challenge: challenge, userID: userID, name: nil)
        let time = now().wholeMilliseconds
        return SignUp(
            user: AuthUser(id: userID, email: email, emailVerified: time, name: challenge.name, image: nil, createdAt: time, updatedAt: time, payloadJSON: nil),
            passkey: passkey)
    }

    /// Verifies a new user's first passkey and creates the user with it (no callbacks run: for apps that do not use
    /// ``Accounts``).
    ///
    /// - Parameter request: The request carrying the credential and the sign-up ceremony's cookie.
    /// - Returns: The new user and their passkey.
    /// - Throws: ``AuthError`` with the failed check's code; ``AuthError/emailInUse`` when the address got an account
    ///   meanwhile.
    public func completeSignUp(_ request: AuthRequest) async throws -> SignUp {
        let signUp = try await verifySignUp(request)
        try await Self.create(signUp, in: store)
        await audit.record(.passkeyAdded, userID: signUp.user.id)
        return signUp
    }

    /// Writes a verified sign-up: the user and the passkey in one transaction.
    ///
    /// - Throws: ``AuthError/emailInUse`` (the address got an account meanwhile), ``AuthError/passkeyInUse``,
    ///   ``AuthError/passkeyChallengeExpired`` (this sign-up was completed already), ``AuthError/unavailable``.
    public static func create(_ signUp: SignUp, in store: any AccountStore) async throws {
        try await AuthError.mappingStoreErrors {
            do {
                try await store.createUser(signUp.user, authenticator: signUp.passkey)
            } catch AccountStoreError.emailInUse {
                throw AuthError.emailInUse
            } catch AccountStoreError.authenticatorInUse {
                throw AuthError.passkeyInUse
            } catch AccountStoreError.userInUse {
                throw AuthError.passkeyChallengeExpired.with(detail: "this sign-up was completed already")
            }
        }
    }

    // MARK: Authentication

    /// Options for a sign-in with a passkey: discoverable (the browser offers the site's passkeys, and autofill
    /// uses the same options), or, with `userID`, the second factor after a password (only that user's passkeys).
    ///
    /// - Parameters:
    ///   - userID: The user who passed the password, for a second factor; `nil` for a sign-in.
    ///   - returnTo: Where the sign-in is headed.
    /// - Returns: The options and their challenge cookie.
    public func authenticationOptions(userID: String? = nil, returnTo: String? = nil) async throws -> PasskeyOptions {
        let challenge = PasskeyChallenge(
            purpose: userID == nil ? .signIn : .secondFactor, userID: userID, returnTo: returnTo, lifetime: configuration.challengeLifetime, now: now())
        var options: JSONObject = [
            "challenge": .string(Base64URL.encode(challenge.challenge)),
            "timeout": .integer(Int64(configuration.challengeLifetime * 1000)),
            "rpId": .string(relyingPartyID),
            "userVerification": .string(configuration.requiresUserVerification ? "required" : "preferred"),
        ]
        if let userID {
            let passkeys = try await storeErrors { try await store.authenticators(userID: userID) }
            options["allowCredentials"] = .array(passkeys.map(Self.descriptor))
        } else {
            options["allowCredentials"] = .array([])
        }
        return PasskeyOptions(action: "authenticate", options: options, cookieField: try cookieField(challenge))
    }

    /// A verified sign-in.
    public struct Assertion: Sendable {
        /// Who signed in.
        public let user: AuthUser
        /// With which passkey (its counter and last use updated).
        public let passkey: PasskeyAuthenticator
        /// Whether the user was verified (PIN, biometrics).
        public let userVerified: Bool
        /// Where the sign-in was headed.
        public let returnTo: String?
    }

    /// Verifies a passkey sign-in (or, for `secondFactorFor`, the second factor of that user).
    ///
    /// - Parameters:
    ///   - request: The request carrying the credential JSON and the challenge cookie.
    ///   - secondFactorFor: The user who passed the password, when the ceremony is their second factor.
    /// - Returns: The user and passkey.
    /// - Throws: ``AuthError`` with the failed check's code.
    public func authenticate(_ request: AuthRequest, secondFactorFor: String? = nil) async throws -> Assertion {
        let (challenge, credential) = try await redeem(request, registration: false)
        switch (challenge.purpose, secondFactorFor) {
        case (.signIn, nil): break
        case (.secondFactor, let userID?) where challenge.userID == userID: break
        default: throw AuthError.passkeyChallengeExpired.with(detail: "the ceremony was for another purpose or user")
        }
        guard let passkey = try await storeErrors({ try await store.authenticator(credentialID: credential.credentialID) }) else {
            throw AuthError.passkeyUnknownCredential
        }
        if let expected = challenge.userID, passkey.userID != expected { throw AuthError.passkeyUnknownCredential.with(detail: "the passkey is not this user's") }
        if let handle = credential.userHandle {
            guard ConstantTime.equals(handle, Array(passkey.userID.utf8)) else { throw AuthError.passkeyUnknownCredential.with(detail: "the user handle does not match the passkey's user") }
        } else if challenge.userID == nil {
            throw AuthError.invalidPasskeyResponse.with(detail: "a sign-in without a user needs the user handle")
        }
        let clientData = try ClientData(json: credential.clientDataJSON)
        try clientData.check(type: "webauthn.get", challenge: challenge.challenge, origins: origins)
        guard let rawData = credential.authenticatorData, let signature = credential.signature else { throw AuthError.invalidPasskeyResponse }
        let data = try mapped { () throws(WebAuthnDataError) in try AuthenticatorData(bytes: rawData) }
        try checkFlags(data)
        var key = try verificationKeys.value(for: passkey.credentialID) { () throws(AuthError) in
            try mapped { () throws(WebAuthnDataError) in try COSEKey(bytes: passkey.publicKey) }
        }
        if key.bytes != passkey.publicKey {
            // Another credential's key under a reused ID (the first was deleted): parse the stored one.
            key = try mapped { () throws(WebAuthnDataError) in try COSEKey(bytes: passkey.publicKey) }
        }
        guard key.isValidSignature(signature, for: rawData + clientData.hash) else { throw AuthError.passkeyInvalidSignature }
        // Only someone holding the key learns that it is flagged.
        if passkey.flaggedAt != nil, configuration.counterPolicy == .flagAndRefuse { throw AuthError.passkeyCloned.with(detail: "this passkey was flagged as possibly cloned") }
        // Backup eligibility is fixed for a credential's life (WebAuthn §7.2 step 18).
        guard data.backupEligible == (passkey.deviceType == "multiDevice") else { throw AuthError.passkeyBackupEligibilityChanged }
        // A counter that did not go up, on an authenticator that counts: two copies of one key may exist.
        var flagged = passkey.flaggedAt != nil
        if data.signCount != 0 || passkey.counter != 0, data.signCount <= passkey.counter {
            _ = try? await store.flagAuthenticator(credentialID: passkey.credentialID, at: now())
            flagged = true
            if configuration.counterPolicy == .flagAndRefuse {
                throw AuthError.passkeyCloned.with(detail: "the signature counter went from \(passkey.counter) to \(data.signCount)")
            }
        }
        let time = now()
        // A flagged passkey's use is not recorded (the store keeps its counter where the flag found it); only the
        // flag-only policy gets here with one.
        if !flagged {
            let recorded = try await storeErrors {
                try await store.recordAuthenticatorUse(
                    credentialID: passkey.credentialID, expectedCounter: passkey.counter, counter: max(data.signCount, passkey.counter),
                    backedUp: data.backedUp, at: time)
            }
            guard recorded else { throw AuthError.unavailable.with(detail: "another sign-in used this passkey at the same moment; try again") }
        }
        guard let user = try await storeErrors({ try await store.user(id: passkey.userID) }) else { throw AuthError.passkeyUnknownCredential }
        var used = passkey
        used.counter = max(data.signCount, passkey.counter)
        used.backedUp = data.backedUp
        used.lastUsedAt = time.wholeMilliseconds
        return Assertion(user: user, passkey: used, userVerified: data.userVerified, returnTo: challenge.returnTo)
    }

    // MARK: Management

    /// A user's passkeys, oldest first.
    public func passkeys(userID: String) async throws -> [PasskeyAuthenticator] {
        try await storeErrors { try await store.authenticators(userID: userID) }
    }

    /// Whether a user has a passkey that can sign in (a flagged one cannot, so it is never asked for as a second factor).
    public func hasPasskey(userID: String) async throws -> Bool {
        try await passkeys(userID: userID).contains { $0.flaggedAt == nil }
    }

    /// Renames one of a user's passkeys.
    ///
    /// - Throws: ``AuthError/notFound`` when it is not the user's.
    public func rename(credentialID: [UInt8], userID: String, name: String?) async throws {
        guard try await storeErrors({ try await store.renameAuthenticator(credentialID: credentialID, userID: userID, name: Self.cleanName(name)) }) else { throw AuthError.notFound }
    }

    /// Deletes one of a user's passkeys, unless it is their last way to sign in.
    ///
    /// - Throws: ``AuthError/notFound``, ``AuthError/lastSignInMethod``.
    public func delete(credentialID: [UInt8], userID: String) async throws {
        switch try await storeErrors({ try await store.deleteAuthenticator(credentialID: credentialID, userID: userID) }) {
        case .unlinked: await audit.record(.passkeyRemoved, userID: userID)
        case .notFound: throw AuthError.notFound
        case .lastSignInMethod: throw AuthError.lastSignInMethod
        }
    }

    // MARK: Checks

    /// Reads and redeems the ceremony's cookie, takes the client's limit and parses the credential.
    private func redeem(_ request: AuthRequest, registration: Bool) async throws -> (PasskeyChallenge, PasskeyCredentialJSON) {
        if let client = request.clientAddress { try await configuration.perClient.take("passkey-client:" + RateLimitKey.client(client)) }
        guard let challenge = openChallenge(request), challenge.purpose.isRegistration == registration else { throw AuthError.passkeyChallengeExpired }
        let fresh: Bool
        do {
            fresh = try await replay.consume(challenge.replayID, expiresAt: Date(timeIntervalSince1970: Double(challenge.expiresAt)))
        } catch {
            throw AuthError.unavailable.with(detail: "the challenge cannot be redeemed right now")
        }
        guard fresh else { throw AuthError.passkeyChallengeExpired.with(detail: "the challenge was used already") }
        return (challenge, try PasskeyCredentialJSON(try Self.credentialValue(request), registration: registration))
    }

    /// The credential in a request: a JSON body that is the credential or holds it in `data` (an object, or a string
    /// of JSON as Auth.js's form posts it), or a form's `data` field.
    static func credentialValue(_ request: AuthRequest) throws(AuthError) -> JSONValue {
        guard request.body.count <= PasskeyCredentialJSON.maximumSize else { throw AuthError.payloadTooLarge }
        let isJSON = request.head.headerFields[.contentType]?.lowercased().hasPrefix("application/json") ?? false
        var value: JSONValue?
        if isJSON {
            value = try? JSONValue(parsing: request.body)
        } else if let data = request.form["data"] {
            value = try? JSONValue(parsing: Array(data.utf8))
        }
        guard var found = value else { throw AuthError.invalidPasskeyResponse.with(detail: "the body is not a credential") }
        if let data = found.objectValue?["data"] {
            if case .string(let text) = data {
                guard let parsed = try? JSONValue(parsing: Array(text.utf8)) else { throw AuthError.invalidPasskeyResponse.with(detail: "data is not JSON") }
                found = parsed
            } else {
                found = data
            }
        }
        return found
    }

    private func openChallenge(_ request: AuthRequest) -> PasskeyChallenge? {
        request.cookie(named: PasskeyChallenge.cookie(baseURL: baseURL).effectiveName).flatMap { PasskeyChallenge.open($0, with: challengeSealer, now: now()) }
    }

    /// The registration checks of WebAuthn §7.1, after the client data: the attestation, the relying party, the
    /// flags, the credential ID, the algorithm.
    private func verifyRegistration(_ credential: PasskeyCredentialJSON, challenge: PasskeyChallenge, userID: String, name: String?) throws(AuthError) -> PasskeyAuthenticator {
        let clientData = try ClientData(json: credential.clientDataJSON)
        try clientData.check(type: "webauthn.create", challenge: challenge.challenge, origins: origins)
        guard let rawAttestation = credential.attestationObject else { throw AuthError.invalidPasskeyResponse }
        let attestation = try mapped { () throws(WebAuthnDataError) in try AttestationObject(bytes: rawAttestation) }
        let data = attestation.authenticatorData
        try checkFlags(data)
        guard let attested = data.attestedCredentialData else { throw AuthError.invalidPasskeyResponse.with(detail: "no attested credential data") }
        guard attested.credentialID == credential.credentialID else { throw AuthError.invalidPasskeyResponse.with(detail: "the credential ID differs from the authenticator's") }
        _ = try mapped { () throws(WebAuthnDataError) in try attestation.verify(clientDataHash: clientData.hash, trustAnchors: configuration.trustAnchors, now: now()) }
        return PasskeyAuthenticator(
            credentialID: attested.credentialID, userID: userID, publicKey: attested.publicKey.bytes, counter: data.signCount,
            backedUp: data.backedUp, deviceType: data.backupEligible ? "multiDevice" : "singleDevice", transports: credential.transports,
            name: Self.cleanName(name), createdAt: now())
    }

    /// The relying party ID hash and the user present / verified flags.
    private func checkFlags(_ data: AuthenticatorData) throws(AuthError) {
        guard ConstantTime.equals(data.rpIDHash, relyingPartyIDHash) else { throw AuthError.passkeyRelyingPartyMismatch }
        guard data.userPresent else { throw AuthError.passkeyUserNotPresent }
        if configuration.requiresUserVerification, !data.userVerified { throw AuthError.passkeyUserNotVerified }
    }

    private func creationOptions(_ challenge: PasskeyChallenge, userName: String, displayName: String, exclude: [PasskeyAuthenticator]) throws -> PasskeyOptions {
        guard let userID = challenge.userID, userID.utf8.count <= 64 else { throw AuthError.serverError.with(detail: "a user ID longer than 64 bytes cannot be a user handle") }
        let options: JSONObject = [
            "rp": ["id": .string(relyingPartyID), "name": .string(configuration.relyingPartyName)],
            "user": ["id": .string(Base64URL.encode(Array(userID.utf8))), "name": .string(userName), "displayName": .string(displayName)],
            "challenge": .string(Base64URL.encode(challenge.challenge)),
            "pubKeyCredParams": .array([COSEAlgorithm.edDSA, .es256, .rs256].map { ["type": "public-key", "alg": .integer(Int64($0.rawValue))] }),
            "timeout": .integer(Int64(configuration.challengeLifetime * 1000)),
            "excludeCredentials": .array(exclude.map(Self.descriptor)),
            "authenticatorSelection": [
                "residentKey": "required", "requireResidentKey": true,
                "userVerification": .string(configuration.requiresUserVerification ? "required" : "preferred"),
            ],
            "attestation": .string(configuration.attestation),
            "extensions": ["credProps": true],
        ]
        return PasskeyOptions(action: "register", options: options, cookieField: try cookieField(challenge))
    }

    private func cookieField(_ challenge: PasskeyChallenge) throws -> HTTPField {
        HTTPField(name: .setCookie, value: PasskeyChallenge.cookie(baseURL: baseURL).setCookie(try challenge.sealed(with: challengeSealer), maxAge: Int(configuration.challengeLifetime)))
    }

    private static func descriptor(_ passkey: PasskeyAuthenticator) -> JSONValue {
        var descriptor: JSONObject = ["type": "public-key", "id": .string(Base64URL.encode(passkey.credentialID))]
        if !passkey.transports.isEmpty { descriptor["transports"] = .array(passkey.transports.map(JSONValue.string)) }
        return .object(descriptor)
    }

    /// A name people chose (a passkey's, a new user's): trimmed, without control or format characters, at most 64
    /// characters; `nil` when nothing is left.
    static func cleanName(_ name: String?) -> String? {
        guard let name else { return nil }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: name.unicodeScalars.filter { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: false
            default: true
            }
        })
        let trimmed = String(kept).trimmingCharacters(in: .whitespacesAndNewlines).prefix(64)
        return trimmed.isEmpty ? nil : String(trimmed)
    }

    static func codeHash(_ code: String, email: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("sesame-passkey-signup-code\u{0}\(email)\u{0}\(code)".utf8)))
    }

    /// Maps the byte-level decoders' errors to the ceremony's codes.
    private func mapped<T>(_ work: () throws(WebAuthnDataError) -> T) throws(AuthError) -> T {
        do {
            return try work()
        } catch {
            switch error.code {
            case .unsupportedAlgorithm: throw AuthError.passkeyUnsupportedAlgorithm.with(detail: error.detail)
            case .unsupportedAttestationFormat, .invalidAttestationSignature, .invalidAttestationCertificate, .untrustedAttestation:
                throw AuthError.passkeyInvalidAttestation.with(detail: error.detail)
            default: throw AuthError.invalidPasskeyResponse.with(detail: error.detail)
            }
        }
    }

    private func storeErrors<T>(_ work: () async throws -> T) async throws -> T {
        try await AuthError.mappingStoreErrors(work)
    }
}
