import Crypto
import Foundation
import HTTPTypes
import Logging

/// Sessions for native apps: the app signs the person in through the system browser and gets a short-lived access
/// token and a rotating refresh token, instead of a long-lived session token in a redirect URL (which another app
/// registered for the same custom scheme could intercept).
///
/// The whole lifecycle is in this file:
/// - **Start** (`GET {prefix}/native/authorize?client_id&redirect_uri&code_challenge&code_challenge_method=S256&state`):
///   the app and its redirect URI (exactly one of the registered ones) are checked before anything else, so a
///   bad request never redirects anywhere; the PKCE challenge and `state` are sealed in a short-lived cookie and
///   the browser goes to the sign-in page.
/// - **Code** (`GET {prefix}/native/complete`, the sign-in's `callbackUrl`): only a browser session that began
///   after the start counts (an old session in the browser does not sign an app in silently); a one-time code,
///   bound to the app, its redirect URI and challenge, goes to the redirect URI with `state`.
/// - **Exchange** (`POST {prefix}/token`, `grant_type=authorization_code`, `code`, `code_verifier`, `client_id`,
///   `redirect_uri`): the code is redeemed once (a replayed code or a wrong verifier gets `invalid_grant`, and a
///   replay revokes the tokens the first exchange issued); a new refresh-token family begins.
/// - **Refresh** (`grant_type=refresh_token`, `refresh_token`, `client_id`): the token rotates on every use
///   (compare-and-swap in the store: of concurrent refreshes, one rotates). A retry with the token just rotated
///   out, within ``NativeAppConfiguration/reuseWindow``, gets the same new pair; after it, that token is taken for
///   a stolen copy and the whole family goes, with its access tokens.
/// - **Revoke** (`POST {prefix}/revoke`, RFC 7009, `token`, `client_id`): a refresh token ends its family; an access
///   token is revoked alone. ``revokeAll(subjectID:)`` ends every family of a subject ("sign out everywhere", a
///   deleted user).
///
/// Refresh tokens are 256-bit secrets stored as SHA-256 hashes in the ``SessionStore`` (any of them: memory,
/// SQLite, PostgreSQL, Redis), in the group `native:{subjectID}`. Access tokens are ``SessionTokens`` tokens, so
/// the app's API accepts them as `Authorization: Bearer` through the usual middleware; the tokens need a
/// revocation store, which a revoked family uses.
public struct NativeAppSessions<Subject: SessionSubject>: Sendable {
    /// Issues (and revokes) the access tokens.
    public let tokens: SessionTokens<Subject>
    /// Where refresh-token families and one-time codes live.
    public let store: any SessionStore
    /// The apps and lifetimes.
    public let configuration: NativeAppConfiguration
    /// The browser's session, for the code step (the app's browser sessions, tokens or a store).
    let browserSession: @Sendable (HTTPRequest) async -> SessionResolution<Subject>
    /// Auth.js's `update` for apps: a refresh with `data` may change the family's subject.
    let update: (@Sendable (Subject, JSONValue) async throws -> Subject?)?
    let now: @Sendable () -> Date
    let logger: Logger

    /// Creates native-app sessions.
    ///
    /// - Parameters:
    ///   - tokens: Issues the access tokens (with their lifetime from `configuration`); it needs a revocation store.
    ///   - browserSessions: The sessions of the browser the person signs in with (default: `tokens`).
    ///   - store: Where refresh-token families and codes live.
    ///   - configuration: The apps and lifetimes.
    ///   - update: Auth.js's `update(data)` for apps: given the family's subject and the `data` a refresh carried
    ///     (`POST {prefix}/token` with `data`, a JSON text), the subject the family has from then on, or `nil` to
    ///     keep it. Validate `data` here: it comes from the app. The default changes nothing.
    ///   - logger: Where reuse of a refresh token is reported (never with a token).
    ///   - now: The clock.
    /// - Throws: ``TokenError/revocationUnavailable`` when `tokens` has no revocation store.
    public init<Browser: SessionStrategy>(
        tokens: SessionTokens<Subject>, browserSessions: Browser, store: any SessionStore, configuration: NativeAppConfiguration,
        update: (@Sendable (Subject, JSONValue) async throws -> Subject?)? = nil,
        logger: Logger = Logger(label: "sesame.native"), now: @escaping @Sendable () -> Date = { Date() }
    ) throws where Browser.Subject == Subject {
        guard tokens.revocations != nil else {
            throw TokenError.revocationUnavailable.with(detail: "native-app sessions need a revocation store: a revoked refresh-token family revokes its access tokens")
        }
        self.tokens = tokens
        self.store = configuration.metrics.measuring(store)
        self.configuration = configuration
        self.browserSession = { request in await browserSessions.resolve(request) }
        self.update = update
        self.logger = logger
        self.now = now
    }

    /// Creates native-app sessions whose browser sign-in uses the same session tokens.
    ///
    /// - Parameters: As the general initializer.
    /// - Throws: ``TokenError/revocationUnavailable`` when `tokens` has no revocation store.
    public init(
        tokens: SessionTokens<Subject>, store: any SessionStore, configuration: NativeAppConfiguration,
        update: (@Sendable (Subject, JSONValue) async throws -> Subject?)? = nil,
        logger: Logger = Logger(label: "sesame.native"), now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try self.init(tokens: tokens, browserSessions: tokens, store: store, configuration: configuration, update: update, logger: logger, now: now)
    }

    // MARK: Start and code (in the browser)

    /// `GET {prefix}/native/authorize`: checks the app, its redirect URI and the PKCE challenge, seals them in a
    /// cookie and sends the browser to sign in.
    func authorize(_ request: AuthRequest, context: NativeAppContext) throws -> AuthResponse {
        let query = request.query
        guard let client = query["client_id"].flatMap({ configuration.clients[$0] }) else { throw AuthError.invalidClient }
        guard let redirectURI = query["redirect_uri"], client.redirectURIs.contains(redirectURI) else { throw AuthError.invalidRedirectURI }
        guard query["response_type"].map({ $0 == "code" }) ?? true else { throw AuthError.invalidRequest.with(detail: "response_type is code") }
        guard query["code_challenge_method"] == "S256" else { throw AuthError.invalidRequest.with(detail: "code_challenge_method is S256 (PKCE)") }
        guard let challenge = query["code_challenge"], challenge.utf8.count == 43, Base64URL.decode(challenge)?.count == 32 else {
            throw AuthError.invalidRequest.with(detail: "code_challenge is the base64url SHA-256 of the verifier")
        }
        guard let state = query["state"], !state.isEmpty, state.utf8.count <= 512 else { throw AuthError.invalidRequest.with(detail: "state is required (at most 512 bytes)") }
        let flow = NativeAuthorization(clientID: client.id, redirectURI: redirectURI, challenge: challenge, state: state, now: now(), lifetime: configuration.signInLifetime)
        var response = AuthResponse.redirect(to: context.signInURL, status: .seeOther)
        let cookie = NativeAuthorization.cookie(baseURL: context.configuration.baseURL)
        let sealed: String
        do { sealed = try flow.sealed(keys: tokens.keys) } catch { throw AuthError.unavailable.with(detail: "the sign-in state cannot be sealed") }
        response.head.headerFields.append(HTTPField(name: .setCookie, value: cookie.setCookie(sealed, maxAge: Int(configuration.signInLifetime))))
        return response
    }

    /// `GET {prefix}/native/complete`: after a sign-in in this browser since the start, a one-time code to the
    /// app's redirect URI; without one, the sign-in page again.
    func complete(_ request: AuthRequest, context: NativeAppContext) async throws -> AuthResponse {
        let cookie = NativeAuthorization.cookie(baseURL: context.configuration.baseURL)
        guard let value = request.cookie(named: cookie.effectiveName), let flow = NativeAuthorization.open(value, keys: tokens.keys, now: now()),
            let client = configuration.clients[flow.clientID], client.redirectURIs.contains(flow.redirectURI)
        else { throw AuthError.invalidRequest.with(detail: "the app's sign-in expired or was not started here; start again from the app") }
        let resolution = await browserSession(request.head)
        if resolution.isUnavailable { throw AuthError.unavailable.with(detail: "sessions cannot be checked right now") }
        // A browser's session from its cookie, begun since the start; never an app's access token (which would
        // let a stolen one start a family of its own).
        guard let session = resolution.session, resolution.isCookieAuthenticated, Int64(session.issuedAt.timeIntervalSince1970) >= flow.startedAt,
            try await storing({ try await store.get(Self.accessTokenKey(session.id)) }) == nil
        else {
            return .redirect(to: context.signInURL, status: .seeOther)
        }
        let (type, properties) = try SessionSubjectCoding.encode(session.subject)
        let code = RandomToken.make(byteCount: 32)
        let stored: JSONObject = [
            "t": .string(type), "p": .object(properties), "s": .string(session.subjectID), "c": .string(flow.clientID),
            "r": .string(flow.redirectURI), "ch": .string(flow.challenge),
        ]
        try await storing {
            try await store.create(SessionRecord(
                key: Self.codeKey(code), group: nil, value: JSONValue.object(stored).jsonBytes, expiresAt: now().addingTimeInterval(configuration.codeLifetime)))
        }
        var target = URLEncodedForm.appending(name: "code", value: code, to: flow.redirectURI)
        target = URLEncodedForm.appending(name: "state", value: flow.state, to: target)
        var response = AuthResponse.redirect(to: target, status: .seeOther)
        response.head.headerFields.append(HTTPField(name: .setCookie, value: cookie.clearCookie()))
        return response
    }

    // MARK: Token endpoint

    /// `POST {prefix}/token`: a code or a refresh token for a new pair.
    func token(_ request: AuthRequest, context: NativeAppContext) async throws -> AuthResponse {
        guard request.head.method == .post else { throw AuthError.methodNotAllowed }
        let form = request.formOrJSON
        let clientID = form["client_id"] ?? ""
        let grant: NativeTokenGrant
        switch form["grant_type"] {
        case "authorization_code":
            grant = try await exchange(code: form["code"] ?? "", verifier: form["code_verifier"] ?? "", clientID: clientID, redirectURI: form["redirect_uri"] ?? "")
        case "refresh_token":
            let data: JSONValue?
            if let text = form["data"] {
                guard text.utf8.count <= 16_384, let parsed = try? JSONValue(parsing: Array(text.utf8)) else {
                    throw AuthError.invalidRequest.with(detail: "data is a JSON text of at most 16 KiB")
                }
                data = parsed
            } else {
                data = nil
            }
            grant = try await refresh(form["refresh_token"] ?? "", clientID: clientID, data: data)
        case nil:
            throw AuthError.invalidRequest.with(detail: "grant_type is required")
        default:
            throw AuthError.unsupportedGrantType
        }
        return Self.withPragmaNoCache(.json(grant.json(now: now())))
    }

    /// `POST {prefix}/revoke` (RFC 7009): ends a refresh token's family, or revokes an access token; an unknown
    /// token is answered the same (200).
    func revocation(_ request: AuthRequest, context: NativeAppContext) async throws -> AuthResponse {
        guard request.head.method == .post else { throw AuthError.methodNotAllowed }
        let form = request.formOrJSON
        guard let token = form["token"], !token.isEmpty else { throw AuthError.invalidRequest.with(detail: "token is required") }
        try await revoke(token: token, clientID: form["client_id"] ?? "")
        return Self.withPragmaNoCache(.json([:]))
    }

    /// Redeems a one-time code: a new family and its first pair.
    ///
    /// The family is written first and the code claimed after, by a compare-and-swap that records the family in
    /// the code: of two exchanges, one claims it, and a replay (whenever it comes) finds the family to revoke.
    ///
    /// - Parameters:
    ///   - code: The code from the redirect URI.
    ///   - verifier: The PKCE verifier whose S256 challenge started the sign-in.
    ///   - clientID: The app.
    ///   - redirectURI: The redirect URI the code went to.
    /// - Returns: The pair.
    /// - Throws: ``AuthError/invalidClient``, ``AuthError/invalidRequest`` (a malformed verifier),
    ///   ``AuthError/invalidGrant`` (an unknown, used or expired code, another app or redirect URI, a wrong
    ///   verifier; the code is spent either way, and a used code's tokens are revoked), ``AuthError/unavailable``
    ///   when the store cannot be reached.
    public func exchange(code: String, verifier: String, clientID: String, redirectURI: String) async throws(AuthError) -> NativeTokenGrant {
        guard let client = configuration.clients[clientID] else { throw AuthError.invalidClient }
        guard (43...128).contains(verifier.utf8.count), verifier.utf8.allSatisfy(Self.isVerifierByte) else {
            throw AuthError.invalidRequest.with(detail: "code_verifier is 43 to 128 unreserved characters")
        }
        guard code.utf8.count == 43, Base64URL.decode(code)?.count == 32 else { throw AuthError.invalidGrant }
        let key = Self.codeKey(code)
        guard let record = try await storing({ try await store.get(key) }),
            let stored = (try? JSONValue(parsing: record.value))?.objectValue, let type = stored["t"]?.stringValue,
            let properties = stored["p"]?.objectValue, let subjectID = stored["s"]?.stringValue, let challenge = stored["ch"]?.stringValue
        else { throw AuthError.invalidGrant.with(detail: "the code is unknown or expired") }
        if stored["f"] != nil { try await replayed(stored) }
        let computed = Base64URL.encode(Array(SHA256.hash(data: Array(verifier.utf8))))
        guard stored["c"]?.stringValue == client.id, stored["r"]?.stringValue == redirectURI,
            ConstantTime.equals(Array(computed.utf8), Array(challenge.utf8))
        else {
            // Spent all the same: a code gets one try.
            _ = try await storing { try await store.replace(Self.spent(record, stored, family: ""), expectedValue: record.value) }
            throw AuthError.invalidGrant.with(detail: "the code was issued to another app or redirect URI, or the code_verifier does not match")
        }
        let token = RefreshToken.newFamily()
        let started = Int64(now().timeIntervalSince1970.rounded(.down))
        var family = RefreshTokenFamily(
            key: RefreshTokenFamily.storeKey(familyID: token.familyID), subjectType: type, subjectProperties: properties, subjectID: subjectID,
            clientID: client.id, createdAt: started, expiresAt: started + Int64(configuration.refreshTokenLifetime), currentHash: token.secretHash)
        let access = try await issueAccessToken(for: family)
        family.accessTokens = [RefreshTokenFamily.AccessTokenEntry(id: access.id, expiresAt: Int64(access.expiresAt.timeIntervalSince1970))]
        try await storing { try await store.create(family.record()) }
        guard try await storing({ try await store.replace(Self.spent(record, stored, family: family.key), expectedValue: record.value) }) else {
            // Another exchange claimed the code meanwhile: ours never leaves, and theirs is revoked.
            try await end(familyKey: family.key)
            if let current = try await storing({ try await store.get(key) }), let claimed = (try? JSONValue(parsing: current.value))?.objectValue {
                try await replayed(claimed)
            }
            throw AuthError.invalidGrant.with(detail: "the code was used already")
        }
        return NativeTokenGrant(
            accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: token.text,
            refreshTokenExpiresAt: Date(timeIntervalSince1970: Double(family.expiresAt)))
    }

    /// A code used twice was intercepted: the family its first exchange began ends (RFC 6749 §4.1.2).
    private func replayed(_ stored: JSONObject) async throws(AuthError) -> Never {
        if let familyKey = stored["f"]?.stringValue, !familyKey.isEmpty {
            logger.warning("Native-app code replayed: the tokens it was exchanged for are revoked", metadata: ["client": .string(stored["c"]?.stringValue ?? "")])
            try await end(familyKey: familyKey)
        }
        throw AuthError.invalidGrant.with(detail: "the code was used already")
    }

    /// The code's record once spent: it names the family it began (empty when none), until it expires.
    private static func spent(_ record: SessionRecord, _ stored: JSONObject, family: String) -> SessionRecord {
        var spent = stored
        spent["f"] = .string(family)
        return SessionRecord(key: record.key, group: nil, value: JSONValue.object(spent).jsonBytes, expiresAt: record.expiresAt)
    }

    /// Rotates a refresh token: the next pair. A retry with the token just rotated out, within the reuse window,
    /// gets the same pair; any other old token of the family ends the family.
    ///
    /// - Parameters:
    ///   - refreshToken: The token the app holds.
    ///   - clientID: The app.
    ///   - data: Auth.js's `update(data)`: handed to the `update` closure, which may change the family's subject.
    /// - Returns: The pair.
    /// - Throws: ``AuthError/invalidClient``, ``AuthError/invalidGrant`` (unknown, expired, revoked, another app's,
    ///   or reused: then the family is gone), ``AuthError/unavailable`` when the store cannot be reached.
    public func refresh(_ refreshToken: String, clientID: String, data: JSONValue? = nil) async throws(AuthError) -> NativeTokenGrant {
        guard let client = configuration.clients[clientID] else { throw AuthError.invalidClient }
        guard let token = RefreshToken(parsing: refreshToken) else { throw AuthError.invalidGrant }
        let key = RefreshTokenFamily.storeKey(familyID: token.familyID)
        let presented = token.secretHash
        // Each round reads the family once; a lost compare-and-swap means another refresh rotated it meanwhile.
        for _ in 0..<16 {
            guard let record = try await storing({ try await store.get(key) }), let family = RefreshTokenFamily(decoding: record.value, key: key) else {
                throw AuthError.invalidGrant.with(detail: "the refresh token is unknown, expired or revoked")
            }
            guard family.clientID == client.id else { throw AuthError.invalidGrant.with(detail: "the refresh token belongs to another app") }
            let current = now()
            if ConstantTime.equals(presented, family.currentHash) {
                if let grant = try await rotate(family, record: record, presented: token, data: data, at: current) { return grant }
                continue
            }
            if let previous = family.previousHash, ConstantTime.equals(presented, previous), let rotatedAt = family.rotatedAt,
                current.timeIntervalSince1970 - rotatedAt <= configuration.reuseWindow, let sealed = family.retry,
                let grant = RefreshTokenFamily.openRetry(sealed, previous: token, generation: family.generation)
            {
                // A retry of the last refresh (its answer was lost): the same pair.
                return grant
            }
            // An old token of the family (its ID comes only in the family's tokens): someone holds a copy. The family
            // ends, with its access tokens.
            logger.warning("Refresh token reuse: the family was revoked", metadata: ["subject": .string(family.subjectID), "client": .string(family.clientID)])
            configuration.metrics.refreshTokenReused()
            try await end(familyKey: key)
            await configuration.audit.record(.refreshTokenReuse, subjectID: family.subjectID, provider: family.clientID)
            throw AuthError.invalidGrant.with(detail: "the refresh token was used already; the app's session was revoked")
        }
        throw AuthError.unavailable.with(detail: "the refresh could not be completed; try again")
    }

    /// One rotation attempt: the next token and access token, written only if the family is still as read.
    private func rotate(
        _ family: RefreshTokenFamily, record: SessionRecord, presented: RefreshToken, data: JSONValue?, at current: Date
    ) async throws(AuthError) -> NativeTokenGrant? {
        var rotated = family
        if let data, let update {
            let subject = try decodeSubject(family)
            let changed: Subject?
            do { changed = try await update(subject, data) } catch { throw AuthError.invalidRequest.with(detail: "the session update was refused") }
            if let changed {
                let encoded: (type: String, properties: JSONObject)
                do { encoded = try SessionSubjectCoding.encode(changed) } catch { throw AuthError.invalidRequest.with(detail: "the updated subject does not encode") }
                // A new identifier moves the family to that subject's group.
                rotated.subjectID = changed.subjectIdentifier
                rotated.subjectType = encoded.type
                rotated.subjectProperties = encoded.properties
            }
        }
        let next = RefreshToken(familyID: presented.familyID)
        let access = try await issueAccessToken(for: rotated)
        let grant = NativeTokenGrant(
            accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: next.text,
            refreshTokenExpiresAt: Date(timeIntervalSince1970: Double(family.expiresAt)))
        rotated.generation += 1
        rotated.previousHash = family.currentHash
        rotated.currentHash = next.secretHash
        rotated.rotatedAt = current.timeIntervalSince1970
        do {
            rotated.retry = try RefreshTokenFamily.sealRetry(grant, previous: presented, generation: rotated.generation)
        } catch {
            throw AuthError.unavailable.with(detail: "the refresh could not be sealed")
        }
        // Live access tokens stay listed (to be revoked with the family); past the cap, the oldest are revoked
        // first, so none is dropped from the list while still valid.
        var live = family.accessTokens.filter { Double($0.expiresAt) > current.timeIntervalSince1970 - tokens.configuration.leeway }
        live.append(RefreshTokenFamily.AccessTokenEntry(id: access.id, expiresAt: Int64(access.expiresAt.timeIntervalSince1970)))
        let overflow = max(0, live.count - configuration.maximumAccessTokensPerFamily)
        try await revokeAccessTokens(Array(live.prefix(overflow)))
        rotated.accessTokens = Array(live.dropFirst(overflow))
        guard try await storing({ try await store.replace(rotated.record(), expectedValue: record.value) }) else { return nil }
        return grant
    }

    /// Revokes a token: a refresh token's family (with its access tokens), or one access token. Unknown, expired and
    /// other apps' tokens change nothing.
    ///
    /// - Parameters:
    ///   - token: A refresh token or an access token.
    ///   - clientID: The app (a refresh token of another app is left alone).
    /// - Throws: ``AuthError/invalidClient``, ``AuthError/unavailable`` or ``AuthError/revocationUnavailable`` when
    ///   the revocation cannot be recorded or a token's status cannot be checked.
    public func revoke(token: String, clientID: String) async throws(AuthError) {
        guard let client = configuration.clients[clientID] else { throw AuthError.invalidClient }
        if RefreshToken.looksLikeOne(token) {
            guard let refresh = RefreshToken(parsing: token) else { return }
            let key = RefreshTokenFamily.storeKey(familyID: refresh.familyID)
            guard let record = try await storing({ try await store.get(key) }), let family = RefreshTokenFamily(decoding: record.value, key: key),
                family.clientID == client.id
            else { return }
            // Any token of the family ends it: its ID comes only in the family's tokens (the store keeps its hash), so
            // an older one is a holder's, as in a refresh, where it would end the family too.
            try await end(familyKey: key)
            await configuration.audit.record(.signOut, subjectID: family.subjectID, provider: client.id)
            return
        }
        // An access token: only a valid one needs revoking; one whose status cannot be checked is not "revoked".
        let session: AuthSession<Subject>
        do {
            session = try await tokens.verify(token)
        } catch where error == .revocationUnavailable {
            throw AuthError.revocationUnavailable
        } catch {
            return
        }
        do {
            try await tokens.revoke(session)
        } catch {
            throw AuthError.revocationUnavailable
        }
    }

    /// Ends every refresh-token family of a subject and revokes their access tokens, and every session token of
    /// the subject issued until now (``SessionTokens/revokeAll(subjectID:)``: so an exchange racing this call
    /// leaves no access token behind) ("sign out everywhere", a deleted user).
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Throws: When the store or the revocation store cannot be reached (fail closed: call it again).
    public func revokeAll(subjectID: String) async throws {
        let group = RefreshTokenFamily.group(subjectID: subjectID)
        for record in try await store.listGroup(group) { try await end(familyKey: record.key) }
        _ = try await store.deleteGroup(group)
        try await tokens.revokeAll(subjectID: subjectID)
        await configuration.audit.record(.sessionRevoked, subjectID: subjectID, detail: "all")
    }

    /// The live refresh-token families of a subject: one per app sign-in ("your devices").
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Returns: Each family's app, start and end.
    public func families(subjectID: String) async throws -> [(clientID: String, createdAt: Date, expiresAt: Date)] {
        try await store.listGroup(RefreshTokenFamily.group(subjectID: subjectID)).compactMap { record in
            RefreshTokenFamily(decoding: record.value, key: record.key).map {
                (clientID: $0.clientID, createdAt: Date(timeIntervalSince1970: Double($0.createdAt)), expiresAt: Date(timeIntervalSince1970: Double($0.expiresAt)))
            }
        }.sorted { $0.createdAt > $1.createdAt }
    }

    // MARK: Helpers

    /// Ends a family: the access tokens of the value read are revoked, then that value (and only it, by
    /// compare-and-swap) is replaced by an expired record; a rotation in between means another round, so no
    /// access token issued meanwhile outlives the family.
    private func end(familyKey key: String) async throws(AuthError) {
        for _ in 0..<16 {
            guard let record = try await storing({ try await store.get(key) }) else { return }
            if let family = RefreshTokenFamily(decoding: record.value, key: key) { try await revokeAccessTokens(family.accessTokens) }
            let gone = SessionRecord(key: key, group: record.group, value: [], expiresAt: Date(timeIntervalSince1970: 0))
            if try await storing({ try await store.replace(gone, expectedValue: record.value) }) { return }
        }
        throw AuthError.unavailable.with(detail: "the app's session could not be ended; try again")
    }

    private func revokeAccessTokens(_ entries: [RefreshTokenFamily.AccessTokenEntry]) async throws(AuthError) {
        guard let revocations = tokens.revocations else { throw AuthError.revocationUnavailable }
        for entry in entries where Double(entry.expiresAt) > now().timeIntervalSince1970 - tokens.configuration.leeway {
            do {
                try await revocations.revoke(tokenID: entry.id, expiresAt: Date(timeIntervalSince1970: Double(entry.expiresAt) + tokens.configuration.leeway))
            } catch {
                throw AuthError.revocationUnavailable
            }
        }
    }

    /// An access token for the family's subject, recorded as an app's (so it never counts as a browser sign-in).
    private func issueAccessToken(for family: RefreshTokenFamily) async throws(AuthError) -> (token: String, id: String, expiresAt: Date) {
        let issued: (token: String, id: String, expiresAt: Date)
        do {
            issued = try tokens.issue(try decodeSubject(family), lifetime: configuration.accessTokenLifetime)
        } catch {
            throw AuthError.unavailable.with(detail: "the access token cannot be issued")
        }
        try await storing {
            try await store.create(SessionRecord(
                key: Self.accessTokenKey(issued.id), group: nil, value: Array(family.key.utf8),
                expiresAt: issued.expiresAt.addingTimeInterval(tokens.configuration.leeway)))
        }
        return issued
    }

    private func decodeSubject(_ family: RefreshTokenFamily) throws(AuthError) -> Subject {
        do {
            return try SessionSubjectCoding.decode(Subject.self, type: .string(family.subjectType), properties: .object(family.subjectProperties))
        } catch {
            throw AuthError.invalidGrant.with(detail: "the session's subject can no longer be read")
        }
    }

    /// Runs a store operation; a store that cannot answer is ``AuthError/unavailable``.
    private func storing<Value>(_ work: () async throws -> Value) async throws(AuthError) -> Value {
        do {
            return try await work()
        } catch let error as AuthError {
            throw error
        } catch {
            throw AuthError.unavailable.with(detail: "the session store cannot be reached")
        }
    }

    /// The store key of a one-time code: its SHA-256, in hex.
    static func codeKey(_ code: String) -> String { SessionCookieSigner.storeKey(for: Array(("sesame-native-code:" + code).utf8)) }

    /// The store key that marks an access token (by its ID) as an app's.
    static func accessTokenKey(_ tokenID: String) -> String { SessionCookieSigner.storeKey(for: Array(("sesame-native-access:" + tokenID).utf8)) }

    /// RFC 7636's unreserved characters: `A-Z a-z 0-9 - . _ ~`.
    static func isVerifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    static func withPragmaNoCache(_ response: AuthResponse) -> AuthResponse {
        // (JSON answers carry `Cache-Control: no-store` already; RFC 6749 §5.1 also asks for this.)
        var response = response
        response.head.headerFields[HTTPField.Name("Pragma")!] = "no-cache"
        return response
    }
}
