import Crypto
import Foundation
import HTTPTypes
import Sesame
import Synchronization
import Testing

/// The same behaviour from every store: the in-memory one and the real SQLite, PostgreSQL and Redis servers.
@Suite(.timeLimit(.minutes(3))) struct StoreBehaviourTests {
    static func key() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    static func record(group: String? = nil, value: String = "v", lifetime: TimeInterval = 600) -> SessionRecord {
        SessionRecord(key: key(), group: group, value: Array(value.utf8), expiresAt: Date().addingTimeInterval(lifetime))
    }

    /// An audit trail on the store: events filed under both IDs, read newest first, trimmed to its cap, forgotten.
    @Test(arguments: StoreKind.allCases)
    func auditTrailsKeepTheNewestEvents(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let trail = AuditTrail(store: fixture.sessions, maximumPerUser: 2)
            let user = "u-" + UUID().uuidString, subject = "user:id:" + user
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60).rounded())
            for (index, kind) in [AuditEvent.Kind.signIn, .signInFailed, .signIn].enumerated() {
                await trail.record(AuditEvent(
                    kind: kind, time: start.addingTimeInterval(Double(index)), userID: user, subjectID: subject, sessionID: "s\(index)",
                    clientAddress: "2001:db8::\(index)", userAgent: "agent \(index)"))
            }
            let events = try await trail.events(for: user)
            #expect(events.map(\.sessionID) == ["s2", "s1"])
            #expect(events.first?.clientAddress == "2001:db8::2" && events.first?.userAgent == "agent 2" && events.first?.time == start.addingTimeInterval(2))
            #expect(try await trail.events(for: subject, kinds: [.signIn]).map(\.sessionID) == ["s2"])
            #expect(try await trail.forget(user) == 2)
            #expect(try await trail.events(for: user).isEmpty)
            #expect(try await trail.events(for: subject).count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func createGetUpdateDelete(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            var record = Self.record(value: "first")
            #expect(try await store.get(record.key) == nil)
            try await store.create(record)
            let stored = try #require(try await store.get(record.key))
            #expect(stored.key == record.key && stored.value == record.value && stored.group == nil)
            #expect(abs(stored.expiresAt.timeIntervalSince(record.expiresAt)) < 1)
            record.value = Array("second".utf8)
            #expect(try await store.update(record))
            #expect(try await store.get(record.key)?.value == Array("second".utf8))
            try await store.delete(record.key)
            #expect(try await store.get(record.key) == nil)
            // Deleting what is not there is not an error.
            try await store.delete(record.key)
        }
    }

    /// The conditional write: an update never recreates a record that was deleted, terminated with its group or
    /// expired, and a creation never overwrites a live record.
    @Test(arguments: StoreKind.allCases)
    func updatesNeverRecreateEndedSessions(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            let group = "user:" + UUID().uuidString
            var deleted = Self.record(group: group, value: "a")
            try await store.create(deleted)
            try await store.delete(deleted.key)
            deleted.value = Array("written after sign-out".utf8)
            #expect(try await store.update(deleted) == false)
            #expect(try await store.get(deleted.key) == nil)

            var terminated = Self.record(group: group, value: "b")
            try await store.create(terminated)
            #expect(try await store.deleteGroup(group) == 1)
            terminated.expiresAt = Date().addingTimeInterval(3600)  // a sliding refresh
            #expect(try await store.update(terminated) == false)
            #expect(try await store.get(terminated.key) == nil)
            #expect(try await store.listGroup(group).isEmpty)

            let never = Self.record(group: group)
            #expect(try await store.update(never) == false)
            #expect(try await store.get(never.key) == nil)
            #expect(try await store.listGroup(group).isEmpty)

            let live = Self.record(group: group, value: "live")
            try await store.create(live)
            await #expect(throws: (any Error).self) { try await store.create(Self.record(group: group, value: "other").with(key: live.key)) }
            #expect(try await store.get(live.key)?.value == Array("live".utf8))
            _ = try await store.deleteGroup(group)
        }
    }

    /// 50 concurrent creations in one group all land in it.
    @Test(arguments: StoreKind.allCases)
    func concurrentCreationsInOneGroupAreAllListed(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            let group = "user:" + UUID().uuidString
            let records = (0..<50).map { _ in Self.record(group: group) }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for record in records { tasks.addTask { try await store.create(record) } }
                try await tasks.waitForAll()
            }
            #expect(Set(try await store.listGroup(group).map(\.key)) == Set(records.map(\.key)))
            #expect(try await store.deleteGroup(group) == 50)
        }
    }

    /// Many lookups at once (PostgreSQL answers them in shared queries): each gets its own record, or none.
    @Test(arguments: StoreKind.allCases)
    func concurrentLookupsEachGetTheirOwnRecord(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            let records = (0..<50).map { Self.record(value: "value-\($0)") }
            for record in records { try await store.create(record) }
            let missing = (0..<50).map { _ in Self.key() }
            let lookups = (records.map { ($0.key, Optional($0.value)) } + missing.map { ($0, [UInt8]?.none) }).shuffled()
            let answers = try await withThrowingTaskGroup(of: (String, [UInt8]?, [UInt8]?).self) { group in
                for _ in 0..<3 {
                    for (key, expected) in lookups { group.addTask { (key, expected, try await store.get(key)?.value) } }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 300)
            for (key, expected, answer) in answers { #expect(answer == expected, "\(key.prefix(8))") }
            for record in records { try await store.delete(record.key) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func valuesRoundTripByteForByte(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            var record = Self.record()
            record.value = Array(0...255) + [UInt8](repeating: 0x7B, count: 64 * 1024)
            try await fixture.sessions.create(record)
            #expect(try await fixture.sessions.get(record.key)?.value == record.value)
            try await fixture.sessions.delete(record.key)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func expiredRecordsAreNeverReturned(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let group = "user:" + UUID().uuidString
            let expired = Self.record(group: group, lifetime: -1)
            try await fixture.sessions.create(expired)
            #expect(try await fixture.sessions.get(expired.key) == nil)
            #expect(try await fixture.sessions.listGroup(group).isEmpty)
            // The store itself forgets a record when its time is up (not only on read-time checks).
            let short = Self.record(group: group, lifetime: 1.2)
            try await fixture.sessions.create(short)
            #expect(try await fixture.sessions.get(short.key) != nil)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await fixture.sessions.get(short.key) == nil)
            #expect(try await fixture.sessions.deleteGroup(group) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func groupsListMoveAndTerminate(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            let ada = "user:" + UUID().uuidString, bob = "user:" + UUID().uuidString
            let adas = (0..<3).map { _ in Self.record(group: ada) }
            let bobs = Self.record(group: bob)
            let anonymous = Self.record()
            for record in adas + [bobs, anonymous] { try await store.create(record) }
            #expect(Set(try await store.listGroup(ada).map(\.key)) == Set(adas.map(\.key)))
            #expect(try await store.listGroup(bob).map(\.key) == [bobs.key])

            // A record that changes group leaves the old one; a deleted one leaves its group.
            var moved = adas[0]
            moved.group = bob
            #expect(try await store.update(moved))
            try await store.delete(adas[1].key)
            #expect(try await store.listGroup(ada).map(\.key) == [adas[2].key])
            #expect(Set(try await store.listGroup(bob).map(\.key)) == [bobs.key, moved.key])

            // Sign out everywhere: the whole group goes, nothing else does.
            #expect(try await store.deleteGroup(bob) == 2)
            #expect(try await store.get(bobs.key) == nil)
            #expect(try await store.get(moved.key) == nil)
            #expect(try await store.listGroup(bob).isEmpty)
            #expect(try await store.get(adas[2].key) != nil)
            #expect(try await store.get(anonymous.key) != nil)
            #expect(try await store.deleteGroup(bob) == 0)
            _ = try await store.deleteGroup(ada)
            try await store.delete(anonymous.key)
        }
    }

    /// Concurrent terminations of one group remove each session exactly once, and every session is gone.
    @Test(arguments: StoreKind.allCases)
    func groupTerminationIsAtomic(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            let group = "user:" + UUID().uuidString
            let records = (0..<40).map { _ in Self.record(group: group) }
            for record in records { try await store.create(record) }
            let removed = try await withThrowingTaskGroup(of: Int.self) { tasks in
                for _ in 0..<8 { tasks.addTask { try await store.deleteGroup(group) } }
                return try await tasks.reduce(0, +)
            }
            #expect(removed == records.count)
            for record in records { #expect(try await store.get(record.key) == nil) }
        }
    }

    /// A single-use ID is redeemed exactly once, however many requests race for it.
    @Test(arguments: StoreKind.allCases)
    func replayConsumptionIsAtomic(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let replay = fixture.replay
            let id = UUID().uuidString
            let expiresAt = Date().addingTimeInterval(600)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                for _ in 0..<32 { tasks.addTask { try await replay.consume(id, expiresAt: expiresAt) } }
                return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await replay.consume(UUID().uuidString, expiresAt: expiresAt))
        }
    }

    /// A burst of `capacity` is allowed, never more, even when the requests race.
    @Test(arguments: StoreKind.allCases)
    func rateLimitCountersAreAtomic(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let limiter = try await fixture.limiter(5, 3600)
            let key = "email:" + UUID().uuidString
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                for _ in 0..<20 { tasks.addTask { try await limiter.consume(key) == nil } }
                return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 5)
            let retryAfter = try #require(try await limiter.consume(key))
            #expect((1...3600).contains(retryAfter))
            // Other keys have their own buckets.
            #expect(try await limiter.consume("email:" + UUID().uuidString) == nil)
        }
    }

    /// Token revocation: one `jti` denied, and every token of a subject issued before a moment.
    @Test(arguments: StoreKind.allCases)
    func revocationIsStored(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let revocation = fixture.revocation
            let subject = "user:" + UUID().uuidString, jti = UUID().uuidString
            let issued = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) - 10)
            #expect(try await revocation.isRevoked(tokenID: jti, subject: subject, issuedAt: issued) == false)
            try await revocation.revoke(tokenID: jti, expiresAt: Date().addingTimeInterval(600))
            #expect(try await revocation.isRevoked(tokenID: jti, subject: subject, issuedAt: issued))
            #expect(try await revocation.isRevoked(tokenID: UUID().uuidString, subject: subject, issuedAt: issued) == false)
            try await revocation.revokeAll(subject: subject, issuedBefore: issued.addingTimeInterval(5))
            #expect(try await revocation.isRevoked(tokenID: UUID().uuidString, subject: subject, issuedAt: issued))
            #expect(try await revocation.isRevoked(tokenID: UUID().uuidString, subject: subject, issuedAt: issued.addingTimeInterval(6)) == false)
            #expect(try await revocation.isRevoked(tokenID: UUID().uuidString, subject: "user:other", issuedAt: issued) == false)
        }
    }
}

extension SessionRecord {
    /// The same record under another key.
    func with(key: String) -> SessionRecord {
        SessionRecord(key: key, group: group, value: value, expiresAt: expiresAt)
    }
}

/// The compare-and-swap that refresh-token rotation relies on, and the rotation itself, on every store.
@Suite(.timeLimit(.minutes(3))) struct StoreRotationTests {
    /// Of 32 replacements of one value at once, exactly one lands; a stale or wrong expected value, or a deleted
    /// record, changes nothing.
    @Test(arguments: StoreKind.allCases)
    func replaceIsACompareAndSwap(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.sessions
            let group = "native:" + UUID().uuidString
            let record = StoreBehaviourTests.record(group: group, value: "generation-0")
            try await store.create(record)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                for index in 0..<32 {
                    var next = record
                    next.value = Array("generation-1-\(index)".utf8)
                    tasks.addTask { try await store.replace(next, expectedValue: record.value) }
                }
                return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            let stored = try #require(try await store.get(record.key))
            #expect(String(decoding: stored.value, as: UTF8.self).hasPrefix("generation-1-"))
            var stale = record
            stale.value = Array("from a stale read".utf8)
            #expect(try await store.replace(stale, expectedValue: record.value) == false)
            #expect(try await store.get(record.key)?.value == stored.value)
            // The swap keeps the record in its group.
            #expect(try await store.listGroup(group).map(\.key) == [record.key])
            // An expired record in its place: deleted, if unchanged.
            var gone = stored
            gone.expiresAt = Date(timeIntervalSince1970: 0)
            #expect(try await store.replace(gone, expectedValue: record.value) == false)
            #expect(try await store.replace(gone, expectedValue: stored.value))
            #expect(try await store.get(record.key) == nil)
            #expect(try await store.listGroup(group).isEmpty)
            #expect(try await store.replace(stale, expectedValue: stored.value) == false)
            #expect(try await store.get(record.key) == nil)
        }
    }

    /// Native-app sessions on each store: the code exchange, 16 concurrent refreshes with one token (one
    /// rotation, the same pair for all), and reuse of the rotated-out token after the window (the family ends).
    @Test(arguments: StoreKind.allCases)
    func refreshRotationHolds(_ kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let keys = try KeySet(activeKey: JWK.generate(.es256))
            let tokens = try SessionTokens<NativeSubject>(keys: keys, revocations: fixture.revocation)
            // The native sessions' clock moves past the reuse window; the stores keep their own (real) time.
            let offset = Mutex<Double>(0)
            let native = try NativeAppSessions(
                tokens: tokens, store: fixture.sessions,
                configuration: NativeAppConfiguration(clients: [NativeAppClient(id: "app", redirectURIs: ["app:/cb"])], reuseWindow: 5),
                now: { Date().addingTimeInterval(offset.withLock { $0 }) })
            let handler = AuthHandler(providers: [:], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: keys, replay: fixture.replay,
                                      nativeApps: NativeAppAccess(native)) { _ in .json(.null) }
            let subject = NativeSubject.user(id: UUID().uuidString)
            let verifier = String(repeating: "v", count: 43)
            let challenge = Data(SHA256.hash(data: Array(verifier.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            func call(_ method: HTTPRequest.Method, _ path: String, cookie: String? = nil, form: [(name: String, value: String)] = []) async -> AuthResponse {
                var head = HTTPRequest(method: method, scheme: "https", authority: "app.example", path: path)
                if let cookie { head.headerFields[.cookie] = cookie }
                head.headerFields[.contentType] = "application/x-www-form-urlencoded"
                return await handler.handle(AuthRequest(head: head, body: Array(URLEncodedForm(form).encoded.utf8)))
            }
            let start = await call(.get, "/auth/native/authorize?client_id=app&redirect_uri=app%3A%2Fcb&code_challenge_method=S256&state=s&code_challenge=\(challenge)")
            let flow = try #require(start.head.headerFields[values: .setCookie].first.map { String($0.prefix { $0 != ";" }) })
            let session = "__Host-sesame-session=" + (try tokens.create(subject))
            let done = await call(.get, "/auth/native/complete", cookie: flow + "; " + session)
            let location = try #require(done.head.headerFields[.location])
            let code = try #require(URLEncodedForm(parsing: String(location.drop { $0 != "?" }.dropFirst()))["code"])
            let exchanged = await call(.post, "/auth/token", form: [
                ("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier), ("client_id", "app"), ("redirect_uri", "app:/cb"),
            ])
            let first = try #require((try JSONValue(parsing: exchanged.body)).objectValue?["refresh_token"]?.stringValue)
            let answers = try await withThrowingTaskGroup(of: NativeTokenGrant.self) { tasks in
                for _ in 0..<16 { tasks.addTask { try await native.refresh(first, clientID: "app") } }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(answers.map(\.refreshToken)).count == 1 && Set(answers.map(\.accessToken)).count == 1)
            #expect(try await native.families(subjectID: subject.subjectIdentifier).count == 1)
            // After the reuse window, the first token again is a stolen copy.
            offset.withLock { $0 = 6 }
            await #expect(throws: AuthError.invalidGrant) { try await native.refresh(first, clientID: "app") }
            #expect(try await native.families(subjectID: subject.subjectIdentifier).isEmpty)
            await #expect(throws: TokenError.self) { try await tokens.verify(answers[0].accessToken) }
            await #expect(throws: AuthError.invalidGrant) { try await native.refresh(answers[0].refreshToken, clientID: "app") }
        }
    }

    enum NativeSubject: SessionSubject { case user(id: String) }
}
