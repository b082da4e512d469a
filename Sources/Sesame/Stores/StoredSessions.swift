import Foundation
import HTTPTypes

/// Server-side sessions: the app's typed data in a ``SessionStore``, an opaque signed cookie in the browser.
///
/// The whole lifecycle is in this file:
/// - **Resolve** (``resolve(_:)``): the cookie's MAC is checked before anything else, so a forged or malformed
///   cookie costs no store query and is cleared. Then exactly one store read, by the SHA-256 of the secret.
/// - **Use**: `AuthSession<Subject>.current` once signed in, and ``data`` (`.current`, `.set(_:)`) for the
///   app's data, anonymous or not.
/// - **Commit** (``commit(_:)``): a write only when the data changed, or when a sliding expiry must move (at
///   most once per ``StoredSessionConfiguration/refreshInterval``, re-issuing the cookie with the new expiry).
///   A read-only request writes nothing. The write is conditional (``SessionStore/update(_:)``): a session
///   signed out or terminated while the request ran stays gone.
/// - **Sign in** (``signIn(_:request:redirect:)``): always a new secret; the request's previous session is
///   deleted, and its data carried over only when it was anonymous (and
///   ``StoredSessionConfiguration/carriesOverAnonymousData`` allows it). **Sign out**: the record is deleted
///   and the cookie cleared.
/// - **Lifetimes**: anonymous sessions live ``StoredSessionConfiguration/initialLifetime`` (5 minutes);
///   signed-in ones at most ``StoredSessionConfiguration/authenticatedLifetime`` (6 hours) after sign-in, and
///   no longer than ``StoredSessionConfiguration/idleTimeout`` after their last use when one is set.
/// - **Groups**: a signed-in session belongs to its subject's group, so ``terminateAll(subjectID:)`` signs
///   the subject out everywhere and ``sessions(subjectID:)`` lists its sessions.
public struct StoredSessions<Subject: SessionSubject, Data: Codable & Sendable & Equatable>: SessionStrategy {
    /// Where the sessions live (in a ``MeasuredSessionStore`` when ``StoredSessionConfiguration/metrics`` are on).
    public let store: any SessionStore
    /// Cookie and lifetimes.
    public let configuration: StoredSessionConfiguration
    let signer: SessionCookieSigner
    let cookieNames: [[UInt8]]
    let now: @Sendable () -> Date
    /// Decoded records by store key, reused while the stored bytes are the same (no JSON or `Codable` work for
    /// a session that has not changed).
    let decoded: StripedDictionary<String, DecodedRecord>
    /// Cookie values whose MAC verified, with their secret and store key: a returning browser costs one
    /// dictionary lookup instead of an HMAC and a SHA-256. Only an exact, previously verified value hits.
    let verifiedCookies: StripedDictionary<String, VerifiedCookie>
    /// This strategy's identity: the per-request states it makes carry it, and only ``data`` reads them.
    let owner = Owner()

    /// An identity, compared with `===`.
    final class Owner: Sendable {}

    /// The app's data in the current request's session, typed as this strategy's `Data`.
    public var data: StoredSessionData<Data> { StoredSessionData(owner: owner) }

    struct VerifiedCookie: Sendable {
        let secret: [UInt8]
        let key: String
        /// The generation of the signer's keys that verified it (see ``KeyRing``): a hit must share it.
        let keyGeneration: Int
    }

    struct DecodedRecord: Sendable {
        let bytes: [UInt8]
        let value: StoredSessionValue<Data>
        let session: AuthSession<Subject>?
    }

    /// Creates store-backed sessions.
    ///
    /// - Parameters:
    ///   - store: Where the sessions live.
    ///   - signer: The cookie's MAC keys (for example `SessionCookieSigner(keys: keySet)`).
    ///   - configuration: Cookie and lifetimes.
    ///   - now: The clock.
    public init(
        store: any SessionStore, signer: SessionCookieSigner, configuration: StoredSessionConfiguration = StoredSessionConfiguration(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = configuration.metrics.measuring(store)
        self.signer = signer
        self.configuration = configuration
        self.cookieNames = configuration.cookie.acceptedNames.map { Array($0.utf8) }
        self.now = now
        self.decoded = StripedDictionary(capacity: 65_536)
        self.verifiedCookies = StripedDictionary(capacity: 65_536)
    }

    // MARK: Resolve

    /// How many entries this strategy's two process-local caches hold now (decoded records and verified cookies,
    /// each at most 65,536): for gauges and memory checks.
    public var cacheEntryCount: Int { decoded.statistics.entries + verifiedCookies.statistics.entries }

    /// Resolves the session the request's cookie names: the cookie's MAC is checked first, then the store is
    /// read (``Eventual/later(_:)``); a request without the cookie resolves at once.
    ///
    /// - Parameter credentials: The request's `Cookie` fields (a `Bearer` token is not a stored session).
    /// - Returns: The resolution, with the session's data for ``data``.
    public func resolve(_ credentials: SessionCredentials) -> Eventual<SessionResolution<Subject>> {
        guard let cookie = CookieHeader.best(names: cookieNames, inHeaders: credentials.cookies) else {
            return .now(resolution(nil, failure: nil, loaded: nil))
        }
        // The MAC first: a forged or malformed cookie never reaches the store.
        guard let verified = verify(cookie) else {
            return .now(resolution(nil, failure: .invalidSignature, loaded: nil, clear: true))
        }
        return .later { await load(verified) }
    }

    /// Reads the record a verified cookie names.
    private func load(_ verified: VerifiedCookie) async -> SessionResolution<Subject> {
        let record: SessionRecord?
        do {
            record = try await store.get(verified.key)
        } catch {
            return SessionResolution(
                session: nil, failure: .sessionStoreUnavailable, responseFields: [], isCookieAuthenticated: false,
                state: StoredSessionState<Data>(owner: owner, loaded: nil, isUnavailable: true))
        }
        guard let record, let entry = decode(record), entry.value.expiry(configuration) > now().timeIntervalSince1970,
            entry.value.subject == nil || entry.session != nil
        else {
            return resolution(nil, failure: .expired, loaded: nil, clear: true)
        }
        let loaded = StoredSessionState<Data>.Loaded(key: verified.key, secret: verified.secret, value: entry.value, encodedData: entry.value.encodedData)
        return resolution(entry.session, failure: nil, loaded: loaded)
    }

    /// A resolution with this strategy's per-request state; a loaded record came from the session cookie.
    private func resolution(_ session: AuthSession<Subject>?, failure: TokenError?, loaded: StoredSessionState<Data>.Loaded?, clear: Bool = false) -> SessionResolution<Subject> {
        SessionResolution(
            session: session, failure: failure, responseFields: clear ? clearingFields() : [], isCookieAuthenticated: loaded != nil,
            state: StoredSessionState<Data>(owner: owner, loaded: loaded))
    }

    // MARK: Commit

    /// Saves what the handler changed: nothing (at once) for a read-only request, else one conditional store
    /// write, and the cookie when the session began or its sliding expiry moved.
    public func commit(_ resolution: SessionResolution<Subject>) -> Eventual<Result<[HTTPField], AuthError>> {
        guard let write = pendingWrite(resolution) else { return .now(.success([])) }
        return .later {
            do throws(AuthError) {
                return .success(try await save(write))
            } catch {
                return .failure(error)
            }
        }
    }

    private func save(_ write: PendingWrite) async throws(AuthError) -> [HTTPField] {
        switch write {
        case .update(var value, let key, let secret):
            let previousExpiry = value.expiry(configuration)
            value.touchedAt = now().timeIntervalSince1970
            // Conditional: a session signed out or terminated while this request ran is not recreated. Its cookie
            // is left alone here (a sign-in that ended it may have set a new one in the meantime); the next request
            // finds no record and clears it.
            guard try await saveChange(value, key: key) else { return [] }
            // A sliding expiry moved: the cookie follows it, so it never outlives the session.
            guard value.expiry(configuration) != previousExpiry else { return [] }
            return [HTTPField(name: .setCookie, value: setCookie(secret: secret, value: value))]
        case .begin(let encoded):
            // No session yet: the handler stored data, so an anonymous session begins.
            let current = now().timeIntervalSince1970
            let secret = SessionCookieSigner.newSecret()
            let value = StoredSessionValue<Data>(subject: nil, subjectID: nil, encodedData: encoded, createdAt: current, authenticatedAt: nil, touchedAt: current)
            try await saveNew(value, key: SessionCookieSigner.storeKey(for: secret))
            return [HTTPField(name: .setCookie, value: setCookie(secret: secret, value: value))]
        }
    }

    /// What a commit must write, if anything.
    private enum PendingWrite {
        /// The loaded session changed, or its sliding expiry is due to move.
        case update(StoredSessionValue<Data>, key: String, secret: [UInt8])
        /// There was no session and the handler stored data.
        case begin([UInt8])
    }

    private func pendingWrite(_ resolution: SessionResolution<Subject>) -> PendingWrite? {
        guard let state = resolution.state, state.owner === owner else { return nil }
        // This strategy made the state, so it holds this strategy's `Data`.
        let ownState = unsafeDowncast(state, to: StoredSessionState<Data>.self)
        guard !ownState.isUnavailable else { return nil }
        let change = ownState.change()
        guard !change.ended else { return nil }
        if let loaded = ownState.loaded {
            var value = loaded.value
            var dirty = false
            if change.touched, change.encodedData != loaded.encodedData {
                value.encodedData = change.encodedData
                dirty = true
            }
            // A sliding expiry moves at most once per refresh interval.
            if configuration.idleTimeout != nil, value.subject != nil, now().timeIntervalSince1970 - value.touchedAt >= configuration.refreshInterval {
                dirty = true
            }
            return dirty ? .update(value, key: loaded.key, secret: loaded.secret) : nil
        }
        guard change.touched, let encoded = change.encodedData else { return nil }
        return .begin(encoded)
    }

    // MARK: Sign in and out

    public func signIn(_ subject: Subject, request: HTTPRequest?, redirect: String) async throws -> HTTPResponse {
        let subjectID = subject.subjectIdentifier
        let (type, properties) = try SessionSubjectCoding.encode(subject)
        // The request's previous session ends here (fixation). Only an anonymous session's data moves to the
        // new one: a signed-in session's data belongs to whoever it belonged to.
        var carried: [UInt8]? = nil
        if let request, let previous = try await previousSession(of: request) {
            if previous.value.subject == nil, configuration.carriesOverAnonymousData { carried = previous.value.encodedData }
            try await store.delete(previous.key)
        }
        let current = now().timeIntervalSince1970
        let secret = SessionCookieSigner.newSecret()
        let value = StoredSessionValue<Data>(
            subject: ["type": .string(type), "properties": .object(properties)], subjectID: subjectID, encodedData: carried,
            createdAt: current, authenticatedAt: current, touchedAt: current)
        let key = SessionCookieSigner.storeKey(for: secret)
        try await saveNew(value, key: key)
        AuditRequest.note(subjectID: subjectID, sessionID: Self.sessionID(ofKey: key))
        var response = HTTPResponse(status: .found)
        response.headerFields[.location] = redirect
        response.headerFields[.setCookie] = setCookie(secret: secret, value: value)
        response.headerFields[.cacheControl] = "no-store"
        // Whatever the request's handler does next must not write the old session back.
        data.state?.end()
        return response
    }

    public func signOut(_ request: HTTPRequest, redirect: String) async throws -> HTTPResponse {
        if let previous = try await previousSession(of: request) {
            try await store.delete(previous.key)
            if let subjectID = previous.value.subjectID {
                await configuration.audit.record(.signOut, subjectID: subjectID, sessionID: Self.sessionID(ofKey: previous.key))
            }
        }
        data.state?.end()
        var response = HTTPResponse(status: .seeOther)
        response.headerFields[.location] = redirect
        for field in clearingFields() { response.headerFields.append(field) }
        response.headerFields[.cacheControl] = "no-store"
        return response
    }

    // MARK: Groups

    /// Ends one session (for example from a "your devices" list).
    ///
    /// - Parameter session: A session from ``resolve(_:)`` or ``sessions(subjectID:)``.
    public func terminate(_ session: AuthSession<Subject>) async throws {
        for record in try await store.listGroup(session.subjectID) where record.key.hasPrefix(session.id) {
            try await store.delete(record.key)
            await configuration.audit.record(.sessionRevoked, subjectID: session.subjectID, sessionID: session.id)
        }
    }

    /// Ends every session of a subject ("sign out everywhere").
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Returns: How many sessions ended.
    @discardableResult
    public func terminateAll(subjectID: String) async throws -> Int {
        let ended = try await store.deleteGroup(subjectID)
        await configuration.audit.record(.sessionRevoked, subjectID: subjectID, detail: "all")
        return ended
    }

    /// Deletes every session of the subject.
    ///
    /// - Throws: ``SessionStoreError`` when the store cannot be reached.
    public func endAllSessions(subjectID: String) async throws {
        try await terminateAll(subjectID: subjectID)
    }

    /// The live sessions of a subject.
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Returns: Their sessions, most recently signed in first.
    public func sessions(subjectID: String) async throws -> [AuthSession<Subject>] {
        try await store.listGroup(subjectID).compactMap { record in
            (try? StoredSessionValue<Data>(decoding: record.value)).flatMap { session($0, key: record.key) }
        }.sorted { $0.issuedAt > $1.issuedAt }
    }

    // MARK: Helpers

    /// The secret and store key of a cookie value whose MAC verifies.
    private func verify(_ cookie: String) -> VerifiedCookie? {
        // Read first: the keys that verify below are at least this new. A cookie verified under keys a ring has
        // since replaced is verified again (and refused when its key was dropped).
        let generation = signer.keyGeneration
        if let cached = verifiedCookies[cookie], cached.keyGeneration == generation { return cached }
        guard let secret = signer.secret(fromCookie: cookie) else { return nil }
        let verified = VerifiedCookie(secret: secret, key: SessionCookieSigner.storeKey(for: secret), keyGeneration: generation)
        verifiedCookies.insert(verified, for: cookie) { _ in false }
        return verified
    }

    /// A record's decoded value and session, from the cache while its bytes are unchanged.
    private func decode(_ record: SessionRecord) -> DecodedRecord? {
        if let cached = decoded[record.key], cached.bytes == record.value { return cached }
        guard let value = try? StoredSessionValue<Data>(decoding: record.value) else { return nil }
        let entry = DecodedRecord(bytes: record.value, value: value, session: session(value, key: record.key))
        let current = now().timeIntervalSince1970, configuration = self.configuration
        decoded.insert(entry, for: record.key, now: current) { $0.value.expiry(configuration) <= current }
        return entry
    }

    /// The signed-in session a stored value describes; its ID is the first half of the store key (enough to
    /// find it again, never the secret).
    /// A session's public ID: the first half of its store key (which is itself a hash of the cookie's secret).
    static func sessionID(ofKey key: String) -> String { String(key.prefix(32)) }

    private func session(_ value: StoredSessionValue<Data>, key: String) -> AuthSession<Subject>? {
        guard let subjectValue = value.subject, let subjectID = value.subjectID,
            let subject = try? SessionSubjectCoding.decode(Subject.self, type: subjectValue["type"], properties: subjectValue["properties"])
        else { return nil }
        return AuthSession(
            subject: subject, subjectID: subjectID, id: Self.sessionID(ofKey: key),
            issuedAt: Date(timeIntervalSince1970: value.authenticatedAt ?? value.createdAt),
            expiresAt: Date(timeIntervalSince1970: value.expiry(configuration)), issuer: nil, audience: [])
    }

    /// The valid session a request's cookie names, if any.
    private func previousSession(of request: HTTPRequest) async throws -> (key: String, value: StoredSessionValue<Data>)? {
        guard let cookie = CookieHeader.best(names: cookieNames, inHeaders: request.headerFields[values: .cookie]), let secret = signer.secret(fromCookie: cookie) else { return nil }
        let key = SessionCookieSigner.storeKey(for: secret)
        guard let record = try await store.get(key), let value = try? StoredSessionValue<Data>(decoding: record.value) else { return nil }
        return (key, value)
    }

    /// Stores a new session.
    private func saveNew(_ value: StoredSessionValue<Data>, key: String) async throws(AuthError) {
        try await saving { try await store.create(record(value, key: key)) }
    }

    /// Saves a change to a live session; `false` when the session no longer exists (nothing was written).
    private func saveChange(_ value: StoredSessionValue<Data>, key: String) async throws(AuthError) -> Bool {
        try await saving { try await store.update(record(value, key: key)) }
    }

    /// Runs a store write, answering any failure as ``AuthError/unavailable`` (503): nothing was saved.
    private func saving<Result>(_ write: () async throws -> Result) async throws(AuthError) -> Result {
        do {
            return try await write()
        } catch {
            throw AuthError.unavailable.with(detail: "the session store cannot save the session")
        }
    }

    private func record(_ value: StoredSessionValue<Data>, key: String) -> SessionRecord {
        SessionRecord(key: key, group: value.subjectID, value: value.encoded, expiresAt: Date(timeIntervalSince1970: value.expiry(configuration)))
    }

    /// The session cookie: it lives exactly as long as the session does now (at most 400 days); a sliding
    /// session's cookie is re-issued whenever its expiry moves.
    private func setCookie(secret: [UInt8], value: StoredSessionValue<Data>) -> String {
        let maxAge = max(1, Int((value.expiry(configuration) - now().timeIntervalSince1970).rounded(.down)))
        return configuration.cookie.setCookie(signer.cookieValue(for: secret), maxAge: maxAge)
    }

    private func clearingFields() -> [HTTPField] {
        [HTTPField(name: .setCookie, value: configuration.cookie.clearCookie())]
    }
}
