import Foundation
import HTTPTypes

/// Server-side sessions: the app's typed data in a ``SessionStore``, an opaque signed cookie in the browser.
///
/// The whole lifecycle is in this file:
/// - **Resolve** (``resolve(_:)``): the cookie's MAC is checked before anything else, so a forged or malformed
///   cookie costs no store query and is cleared. Then exactly one store read, by the SHA-256 of the secret.
/// - **Use**: `Session<Subject>.current` once signed in, and `SessionData<Data>.current` / `.set(_:)` for the
///   app's data, anonymous or not.
/// - **Commit** (``commit(_:)``): a write only when the data changed, or when a sliding expiry must move (at
///   most once per ``StoredSessionConfiguration/refreshInterval``). A read-only request writes nothing.
/// - **Sign in** (``signIn(_:request:redirect:)``): always a new secret; the pre-authentication session is
///   deleted and its data carried over. **Sign out**: the record is deleted and the cookie cleared.
/// - **Lifetimes**: anonymous sessions live ``StoredSessionConfiguration/initialLifetime`` (5 minutes);
///   signed-in ones at most ``StoredSessionConfiguration/authenticatedLifetime`` (6 hours) after sign-in, and
///   no longer than ``StoredSessionConfiguration/idleTimeout`` after their last use when one is set.
/// - **Groups**: a signed-in session belongs to its subject's group, so ``terminateAll(subjectID:)`` signs
///   the subject out everywhere and ``sessions(subjectID:)`` lists its sessions.
public struct StoredSessions<Subject: SessionSubject, Data: Codable & Sendable & Equatable>: SessionStrategy {
    /// Where the sessions live.
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

    struct VerifiedCookie: Sendable {
        let secret: [UInt8]
        let key: String
    }

    struct DecodedRecord: Sendable {
        let bytes: [UInt8]
        let value: StoredSessionValue<Data>
        let session: Session<Subject>?
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
        self.store = store
        self.signer = signer
        self.configuration = configuration
        self.cookieNames = configuration.cookie.acceptedNames.map { Array($0.utf8) }
        self.now = now
        self.decoded = StripedDictionary(capacity: 65_536)
        self.verifiedCookies = StripedDictionary(capacity: 65_536)
    }

    // MARK: Resolve

    public func resolve(_ request: HTTPRequest) async -> SessionResolution<Subject> {
        let secure = secureCookie(for: request, redirect: nil)
        guard let cookie = CookieHeader.best(names: cookieNames, in: request.headerFields) else {
            return SessionResolution(session: nil, failure: nil, responseFields: [], state: StoredSessionState<Data>(loaded: nil, secureCookie: secure))
        }
        // The MAC first: a forged or malformed cookie never reaches the store.
        guard let verified = verify(cookie) else {
            return SessionResolution(session: nil, failure: .invalidSignature, responseFields: clearingFields(), state: StoredSessionState<Data>(loaded: nil, secureCookie: secure))
        }
        let secret = verified.secret, key = verified.key
        let record: SessionRecord?
        do {
            record = try await store.get(key)
        } catch {
            return SessionResolution(session: nil, failure: .sessionStoreUnavailable, responseFields: [], state: StoredSessionState<Data>(unavailable: ()))
        }
        guard let record, let entry = decode(record) else {
            return SessionResolution(session: nil, failure: .expired, responseFields: clearingFields(), state: StoredSessionState<Data>(loaded: nil, secureCookie: secure))
        }
        let value = entry.value
        guard value.expiry(configuration) > now().timeIntervalSince1970, value.subject == nil || entry.session != nil else {
            return SessionResolution(session: nil, failure: .expired, responseFields: clearingFields(), state: StoredSessionState<Data>(loaded: nil, secureCookie: secure))
        }
        let loaded = StoredSessionState<Data>.Loaded(key: key, secret: secret, value: value, encodedData: value.encodedData)
        let session = entry.session
        return SessionResolution(session: session, failure: nil, responseFields: [], state: StoredSessionState<Data>(loaded: loaded, secureCookie: secure))
    }

    // MARK: Commit

    public func commit(_ resolution: SessionResolution<Subject>) async throws(AuthError) -> [HTTPField] {
        switch pendingWrite(resolution) {
        case nil:
            return []
        case .update(var value, let key)?:
            value.touchedAt = now().timeIntervalSince1970
            try await save(value, key: key)
            return []
        case .begin(let encoded, let secure)?:
            // No session yet: the handler stored data, so an anonymous session begins.
            let current = now().timeIntervalSince1970
            let secret = SessionCookieSigner.newSecret()
            let value = StoredSessionValue<Data>(subject: nil, subjectID: nil, encodedData: encoded, createdAt: current, authenticatedAt: nil, touchedAt: current)
            try await save(value, key: SessionCookieSigner.storeKey(for: secret))
            return [HTTPField(name: .setCookie, value: setCookie(secret: secret, value: value, secure: secure))]
        }
    }

    /// `[]` when the request changed nothing that must be saved (the common read-only request), else `nil`.
    public func commitWithoutWaiting(_ resolution: SessionResolution<Subject>) -> [HTTPField]? {
        pendingWrite(resolution) == nil ? [] : nil
    }

    /// What a commit must write, if anything.
    private enum PendingWrite {
        /// The loaded session changed, or its sliding expiry is due to move.
        case update(StoredSessionValue<Data>, key: String)
        /// There was no session and the handler stored data.
        case begin([UInt8], secure: Bool)
    }

    private func pendingWrite(_ resolution: SessionResolution<Subject>) -> PendingWrite? {
        guard let state = resolution.state as? StoredSessionState<Data>, !state.isUnavailable else { return nil }
        let change = state.change()
        guard !change.ended else { return nil }
        if let loaded = state.loaded {
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
            return dirty ? .update(value, key: loaded.key) : nil
        }
        guard change.touched, let encoded = change.encodedData else { return nil }
        return .begin(encoded, secure: state.secureCookie)
    }

    // MARK: Sign in and out

    public func signIn(_ subject: Subject, request: HTTPRequest?, redirect: String) async throws -> HTTPResponse {
        let subjectID = subject.subjectIdentifier
        let (type, properties) = try SessionSubjectCoding.encode(subject)
        // The pre-authentication session ends here (fixation); its data moves to the new session.
        var carried: [UInt8]? = nil
        if let request, let previous = try await previousSession(of: request) {
            carried = previous.value.encodedData
            try await store.delete(previous.key)
        }
        let current = now().timeIntervalSince1970
        let secret = SessionCookieSigner.newSecret()
        let value = StoredSessionValue<Data>(
            subject: ["type": .string(type), "properties": .object(properties)], subjectID: subjectID, encodedData: carried,
            createdAt: current, authenticatedAt: current, touchedAt: current)
        try await save(value, key: SessionCookieSigner.storeKey(for: secret))
        var response = HTTPResponse(status: .found)
        response.headerFields[.location] = redirect
        response.headerFields[.setCookie] = setCookie(secret: secret, value: value, secure: secureCookie(for: request, redirect: redirect))
        response.headerFields[.cacheControl] = "no-store"
        // Whatever the request's handler does next must not write the old session back.
        (StoredSessionState<Data>.current)?.end()
        return response
    }

    public func signOut(_ request: HTTPRequest, redirect: String) async throws -> HTTPResponse {
        if let previous = try await previousSession(of: request) { try await store.delete(previous.key) }
        (StoredSessionState<Data>.current)?.end()
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
    public func terminate(_ session: Session<Subject>) async throws {
        for record in try await store.listGroup(session.subjectID) where record.key.hasPrefix(session.id) {
            try await store.delete(record.key)
        }
    }

    /// Ends every session of a subject ("sign out everywhere").
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Returns: How many sessions ended.
    @discardableResult
    public func terminateAll(subjectID: String) async throws -> Int {
        try await store.deleteGroup(subjectID)
    }

    /// The live sessions of a subject.
    ///
    /// - Parameter subjectID: The subject's ``SessionSubject/subjectIdentifier``.
    /// - Returns: Their sessions, most recently signed in first.
    public func sessions(subjectID: String) async throws -> [Session<Subject>] {
        try await store.listGroup(subjectID).compactMap { record in
            (try? StoredSessionValue<Data>(decoding: record.value)).flatMap { session($0, key: record.key) }
        }.sorted { $0.issuedAt > $1.issuedAt }
    }

    // MARK: Helpers

    /// The secret and store key of a cookie value whose MAC verifies.
    private func verify(_ cookie: String) -> VerifiedCookie? {
        if let cached = verifiedCookies[cookie] { return cached }
        guard let secret = signer.secret(fromCookie: cookie) else { return nil }
        let verified = VerifiedCookie(secret: secret, key: SessionCookieSigner.storeKey(for: secret))
        verifiedCookies.insert(verified, for: cookie) { _ in false }
        return verified
    }

    /// A record's decoded value and session, from the cache while its bytes are unchanged.
    private func decode(_ record: SessionRecord) -> DecodedRecord? {
        if let cached = decoded[record.key], cached.bytes == record.value { return cached }
        guard let value = try? StoredSessionValue<Data>(decoding: record.value) else { return nil }
        let entry = DecodedRecord(bytes: record.value, value: value, session: session(value, key: record.key))
        let current = now().timeIntervalSince1970, configuration = self.configuration
        decoded.insert(entry, for: record.key) { $0.value.expiry(configuration) <= current }
        return entry
    }

    /// The signed-in session a stored value describes; its ID is the first half of the store key (enough to
    /// find it again, never the secret).
    private func session(_ value: StoredSessionValue<Data>, key: String) -> Session<Subject>? {
        guard let subjectValue = value.subject, let subjectID = value.subjectID,
            let subject = try? SessionSubjectCoding.decode(Subject.self, type: subjectValue["type"], properties: subjectValue["properties"])
        else { return nil }
        return Session(
            subject: subject, subjectID: subjectID, id: String(key.prefix(32)),
            issuedAt: Date(timeIntervalSince1970: value.authenticatedAt ?? value.createdAt),
            expiresAt: Date(timeIntervalSince1970: value.expiry(configuration)), issuer: nil, audience: [])
    }

    /// The valid session a request's cookie names, if any.
    private func previousSession(of request: HTTPRequest) async throws -> (key: String, value: StoredSessionValue<Data>)? {
        guard let cookie = CookieHeader.best(names: cookieNames, in: request.headerFields), let secret = signer.secret(fromCookie: cookie) else { return nil }
        let key = SessionCookieSigner.storeKey(for: secret)
        guard let record = try await store.get(key), let value = try? StoredSessionValue<Data>(decoding: record.value) else { return nil }
        return (key, value)
    }

    private func save(_ value: StoredSessionValue<Data>, key: String) async throws(AuthError) {
        let record = SessionRecord(key: key, group: value.subjectID, value: value.encoded, expiresAt: Date(timeIntervalSince1970: value.expiry(configuration)))
        do {
            try await store.set(record)
        } catch {
            throw AuthError.unavailable.with(detail: "the session store cannot save the session")
        }
    }

    private func setCookie(secret: [UInt8], value: StoredSessionValue<Data>, secure: Bool) -> String {
        let maxAge = max(1, Int((value.expiry(configuration) - now().timeIntervalSince1970).rounded(.up)))
        // A sliding session's cookie lives as long as its absolute limit; the store enforces the idle limit.
        let cookieAge = configuration.idleTimeout != nil && value.subject != nil
            ? max(maxAge, Int(configuration.authenticatedLifetime)) : maxAge
        return configuration.cookie.setCookie(signer.cookieValue(for: secret), maxAge: cookieAge, secure: secure)
    }

    /// Whether a cookie set in answer to `request` is `Secure`: always, except for plain-http development on a
    /// loopback address (judged by an absolute redirect, else by the request).
    private func secureCookie(for request: HTTPRequest?, redirect: String?) -> Bool {
        if let secure = configuration.cookie.secure { return secure }
        if let redirect, redirect.hasPrefix("http://") || redirect.hasPrefix("https://") { return !SessionCookie.isLoopbackHTTP(redirect) }
        guard let request else { return true }
        return !(request.scheme != "https" && SessionCookie.isLoopbackHTTP("http://" + (request.authority ?? "")))
    }

    private func clearingFields() -> [HTTPField] {
        [true, false].map { HTTPField(name: .setCookie, value: configuration.cookie.clearCookie(secure: $0)) }
    }
}
