import CoreMetrics
import Foundation

/// Issues and verifies typed, stateless session tokens: SST's `Session`, in Swift.
///
/// ```swift
/// let sessions = try SessionTokens<AppSession>(keys: keySet)
/// let token = try sessions.create(.user(userID: "123", tenantID: nil))
/// let session = try await sessions.verify(token)
/// switch session.subject {
/// case .user(let userID, _): …
/// case .apiKey(let keyID): …
/// }
/// ```
///
/// A token is a JWS (or, configured so, a JWE) whose payload is the subject in SST's wire shape plus `sub`,
/// `iat`, `exp`, `jti` and, when configured, `iss` and `aud`. Session tokens carry no `typ` header, and a
/// token that has one is rejected: every other kind of token Sesame issues (magic links, flow state) is
/// explicitly typed, so no token is accepted for a purpose it was not issued for.
///
/// Verified tokens are cached (bounded, expiring with the token), so checking the same token again skips the
/// signature check: only a token equal byte for byte to one that was fully verified is a hit. Revocation is
/// consulted on every verification.
public struct SessionTokens<Subject: SessionSubject>: Sendable {
    /// The keys tokens are issued and verified with.
    public let keys: KeySet
    /// The configuration.
    public let configuration: SessionConfiguration
    /// Where revocations are recorded and checked; `nil` turns revocation off.
    public let revocations: (any RevocationStore)?
    let validation: TokenValidation
    @usableFromInline let cache: StripedDictionary<Int, CachedSession>?
    /// The cache's hit and miss counters (``SessionConfiguration/metrics``).
    @usableFromInline let cacheHits: Counter?
    @usableFromInline let cacheMisses: Counter?

    /// A verified session and the whole token it was verified from, which a hit must equal (see ``TokenSeal``), and
    /// the generation of the keys it was verified with, which a hit must share (a ``KeyRing`` that dropped a key
    /// makes every token verified before verified again).
    @usableFromInline
    struct CachedSession: Sendable {
        @usableFromInline let session: AuthSession<Subject>
        @usableFromInline let token: [UInt8]
        @usableFromInline let keyGeneration: Int

        @usableFromInline init(session: AuthSession<Subject>, token: [UInt8], keyGeneration: Int) {
            self.session = session
            self.token = token
            self.keyGeneration = keyGeneration
        }
    }
    @usableFromInline let now: @Sendable () -> Double
    /// Decoded subjects by their wire form.
    let subjects = ThreadShardedMemo<DecodedSubjectKey, Subject>()
    /// Each thread's replica of ``keys``, under their generation: verifying with shared key objects makes every core
    /// update their reference counts, one cache line bouncing between cores on each verification.
    let keyReplicas = ThreadShardedMemo<Int, KeySet>(limitPerShard: 1)
    /// The cookie names a request may carry the session under, as bytes, preferred first.
    let cookieNames: [[UInt8]]

    /// Creates a session token issuer and verifier.
    ///
    /// - Parameters:
    ///   - keys: The key set. Its active key must match ``SessionConfiguration/format``: a signing key for
    ///     signed tokens, an `A256GCM` or `A256CBC-HS512` key for encrypted ones.
    ///   - configuration: Lifetimes, claims, cookie options and cache size.
    ///   - revocations: The revocation store (default: an in-memory one).
    ///   - now: The clock, in seconds since 1970; replace it in tests.
    /// - Throws: ``TokenError/keyNotConfigured`` if the key set cannot issue tokens of the configured format.
    public init(
        keys: KeySet,
        configuration: SessionConfiguration = SessionConfiguration(),
        revocations: (any RevocationStore)? = MemoryRevocationStore(),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) throws(TokenError) {
        let active = try keys.signingKey()
        let wantsSigning = configuration.format == .signed
        guard active.algorithm.isSigning == wantsSigning else {
            throw TokenError.keyNotConfigured.with(
                detail: "\(configuration.format) sessions need \(wantsSigning ? "a signing" : "an A256GCM or A256CBC-HS512") key, not \(active.algorithm)")
        }
        self.keys = keys
        self.configuration = configuration
        self.revocations = revocations
        self.now = now
        self.validation = TokenValidation(
            issuer: configuration.issuer,
            audience: configuration.audience,
            leeway: configuration.leeway,
            maximumTokenSize: configuration.maximumTokenSize,
            now: now)
        self.cache = configuration.cacheCapacity > 0 ? StripedDictionary(capacity: configuration.cacheCapacity) : nil
        self.cacheHits = cache == nil ? nil : configuration.metrics.tokenCacheHits
        self.cacheMisses = cache == nil ? nil : configuration.metrics.tokenCacheMisses
        self.cookieNames = configuration.cookie.acceptedNames.map { Array($0.utf8) }
    }

    // MARK: Issuing

    /// Creates a session token (SST's `Session.create`).
    ///
    /// - Parameters:
    ///   - subject: Whom the session is about.
    ///   - lifetime: Seconds until the token expires (default: ``SessionConfiguration/lifetime``).
    /// - Returns: The compact token.
    /// - Throws: ``TokenError`` if the subject does not encode or the key cannot sign.
    public func create(_ subject: Subject, lifetime: Double? = nil) throws(TokenError) -> String {
        try issue(subject, lifetime: lifetime).token
    }

    /// Creates a session token and says which it is: its `jti` and expiry (what revoking it later needs).
    func issue(_ subject: Subject, lifetime: Double? = nil) throws(TokenError) -> (token: String, id: String, expiresAt: Date) {
        let (type, properties) = try SessionSubjectCoding.encode(subject)
        let issuedAt = now().rounded(.down)
        var payload = JSONObject(uniqueMembers: [("type", .string(type)), ("properties", .object(properties))])
        let id = SessionTokens.newTokenID()
        let expiresAt = issuedAt + (lifetime ?? configuration.lifetime).rounded(.down)
        RegisteredClaims(
            issuer: configuration.issuer,
            subject: subject.subjectIdentifier,
            audience: configuration.audience.map { [$0] } ?? [],
            expiresAt: expiresAt,
            issuedAt: issuedAt,
            tokenID: id
        ).write(to: &payload)
        return (try JWT.issue(payload, key: keys.signingKey()), id, Date(timeIntervalSince1970: expiresAt))
    }

    /// A new random token ID: 88 bits, 15 base64url characters (short enough to be stored inline by `String`).
    static func newTokenID() -> String { RandomToken.make(byteCount: 11) }

    // MARK: Verifying

    /// Verifies a session token and returns the typed session.
    ///
    /// - Parameter token: The compact token from a cookie, a `Bearer` header or a query parameter.
    /// - Returns: The session.
    /// - Throws: ``TokenError``: the JOSE check that failed, an expired or revoked token, a token issued for
    ///   another purpose, an unknown session `type` or malformed `properties`.
    @inlinable
    public func verify(_ token: String) async throws(TokenError) -> AuthSession<Subject> {
        try await verification(token[...]).value.get()
    }

    /// Verifies a session token, answering at once when nothing must be waited for: the signature check is
    /// in memory (and cached), and so is the revocation check with no revocation store or an in-memory one.
    ///
    /// - Parameter token: The compact token from a cookie, a `Bearer` header or a query parameter.
    /// - Returns: The session or why the token is refused, now or once the revocation store has answered.
    @inlinable
    public func verification(_ token: String) -> Eventual<Result<AuthSession<Subject>, TokenError>> {
        verification(token[...])
    }

    /// Verifies a session token that is a slice of a header field (no copy of it is made when it is cached).
    @inlinable
    func verification(_ token: Substring) -> Eventual<Result<AuthSession<Subject>, TokenError>> {
        let session: AuthSession<Subject>
        do {
            session = try signatureChecked(token)
        } catch {
            return .now(.failure(error))
        }
        guard let revocations else { return .now(.success(session)) }
        switch revocations.revocationStatus(tokenID: session.id, subject: session.subjectID, issuedAt: session.issuedAt) {
        case .now(let status): return .now(SessionTokens.admitted(session, status: status))
        case .later(let asking): return .later { SessionTokens.admitted(session, status: await asking()) }
        }
    }

    /// The session, unless the revocation store said it is revoked or could not tell (fail closed).
    @inlinable
    static func admitted(_ session: AuthSession<Subject>, status: Result<Bool, any Error>) -> Result<AuthSession<Subject>, TokenError> {
        switch status {
        case .success(false): .success(session)
        case .success(true): .failure(.revoked)
        case .failure: .failure(.revocationUnavailable)
        }
    }

    /// Everything but revocation: the cached result when this exact token was verified before and has not
    /// expired, else the full check (remembered in the cache; revocation is checked on every use, hit or not).
    @inlinable
    func signatureChecked(_ token: Substring) throws(TokenError) -> AuthSession<Subject> {
        let key = TokenSeal.cacheKey(of: token)
        let generation = keys.generation
        if let cache, let cached = cache.lookup(key, where: { $0.keyGeneration == generation && TokenSeal.matches($0.token, token: token) }) {
            guard now() - configuration.leeway < cached.session.expiresAt.timeIntervalSince1970 else {
                cache.removeValue(for: key)
                throw TokenError.expired
            }
            cacheHits?.increment()
            return cached.session
        }
        cacheMisses?.increment()
        let session = try verifyUncached(String(token), keyGeneration: generation)
        if let cache {
            let current = now()
            cache.insert(CachedSession(session: session, token: TokenSeal.bytes(of: token), keyGeneration: generation), for: key, now: current, isStale: { $0.session.expiresAt.timeIntervalSince1970 <= current })
        }
        return session
    }

    /// The full check: signature or decryption, purpose, claims and subject.
    @usableFromInline
    ///
    /// - Parameters:
    ///   - token: The token.
    ///   - keyGeneration: The keys' generation, read before (default: now); the keys used are at least that new.
    func verifyUncached(_ token: String, keyGeneration: Int? = nil) throws(TokenError) -> AuthSession<Subject> {
        let keys = keyReplicas.value(for: keyGeneration ?? self.keys.generation) { self.keys.replica() }
        let (verified, extracted) = try JWT.verify(token, keys: keys, validation: validation, extracting: SessionSubjectCoding.members)
        guard verified.header.type == nil else { throw TokenError.wrongTokenType.with(detail: "not a session token") }
        let claims = verified.claims
        guard let subjectID = claims.subject else { throw TokenError.missingClaim.with(detail: "sub") }
        guard let tokenID = claims.tokenID else { throw TokenError.missingClaim.with(detail: "jti") }
        guard let issuedAt = claims.issuedAt else { throw TokenError.missingClaim.with(detail: "iat") }
        // The subject of a verified token, decoded once per thread for each distinct subject (see ThreadShardedMemo).
        let subject = try subjects.value(for: DecodedSubjectKey(type: extracted[0], properties: extracted[1])) { () throws(TokenError) -> Subject in
            try SessionSubjectCoding.decode(Subject.self, type: extracted[0], properties: extracted[1])
        }
        return AuthSession(
            subject: subject,
            subjectID: subjectID,
            id: tokenID,
            issuedAt: Date(timeIntervalSince1970: issuedAt),
            expiresAt: Date(timeIntervalSince1970: claims.expiresAt!),
            issuer: claims.issuer,
            audience: claims.audience)
    }

    /// How the verified-token cache has done so far.
    public struct CacheStatistics: Sendable, Hashable {
        /// Verifications answered from the cache.
        public var hits: Int
        /// Verifications that had to check the signature.
        public var misses: Int
        /// Tokens held now.
        public var entries: Int
        /// `hits / (hits + misses)`, or 0 before the first verification.
        public var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    /// The cache's hit and miss counts and size; all zero when the cache is off.
    public var cacheStatistics: CacheStatistics {
        guard let statistics = cache?.statistics else { return CacheStatistics(hits: 0, misses: 0, entries: 0) }
        return CacheStatistics(hits: statistics.hits, misses: statistics.misses, entries: statistics.entries)
    }

    // MARK: Revoking

    /// Revokes one session ("sign out" for a stateless token).
    ///
    /// When an in-memory store's deny-list is full (``MemoryStoreFullError``), the revocation is recorded as a
    /// "not before" cut-off for the session's subject at the token's `iat` instead: the token goes, with the
    /// subject's older tokens (the safe side), and tokens issued in later seconds stay.
    ///
    /// - Parameter session: The verified session to revoke.
    /// - Throws: ``TokenError/revocationUnavailable`` without a revocation store or when it fails.
    public func revoke(_ session: AuthSession<Subject>) async throws(TokenError) {
        guard let revocations else { throw TokenError.revocationUnavailable.with(detail: "no revocation store configured") }
        do {
            // Kept until the token is rejected as expired, which the leeway postpones.
            try await revocations.revoke(tokenID: session.id, expiresAt: session.expiresAt.addingTimeInterval(configuration.leeway))
        } catch is MemoryStoreFullError {
            do {
                try await revocations.revokeAll(subject: session.subjectID, issuedBefore: session.issuedAt)
            } catch {
                throw TokenError.revocationUnavailable
            }
        } catch {
            throw TokenError.revocationUnavailable
        }
    }

    /// Revokes every session of a subject issued until now ("sign out everywhere").
    ///
    /// - Parameter subjectID: The sessions' ``AuthSession/subjectID`` (the token's `sub`).
    /// - Throws: ``TokenError/revocationUnavailable`` without a revocation store or when it fails.
    public func revokeAll(subjectID: String) async throws(TokenError) {
        guard let revocations else { throw TokenError.revocationUnavailable.with(detail: "no revocation store configured") }
        do {
            try await revocations.revokeAll(subject: subjectID, issuedBefore: Date(timeIntervalSince1970: now()))
        } catch {
            throw TokenError.revocationUnavailable
        }
    }
}

/// A subject's wire form (`type`, `properties`), the key of its decoding.
struct DecodedSubjectKey: Hashable, Sendable {
    let type: JSONValue?
    let properties: JSONValue?
}
