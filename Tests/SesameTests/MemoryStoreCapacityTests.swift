import Foundation
import SesameTestSupport
import Testing
@testable import Sesame

/// The in-memory stores of security state, filled to capacity: nothing live is ever forgotten to make room.
/// A full store fails closed (revocations and redemptions answer "unavailable", rate limits answer "limited"),
/// says so once in the log, and recovers once entries expire.
@Suite struct MemoryStoreCapacityTests {
    let clock = TestClock()
    let logs = LogCapture()

    /// A full deny-list of token IDs forgets nothing: every recorded revocation holds, checks still answer (nothing
    /// was lost, so their answers are right), a new revocation throws, and `SessionTokens.revoke` records a
    /// cut-off for the token's subject instead, which ends that token and the subject's older ones only.
    @Test func aFullDenyListForgetsNothingAndFallsBackToTheSubject() async throws {
        let store = MemoryRevocationStore(capacity: 64, logger: logs.logger(), now: clock.function)
        let expiry = Date(timeIntervalSince1970: clock.now + 600)
        var recorded: [String] = []
        var refused = 0
        for index in 0..<2_000 {
            do {
                try await store.revoke(tokenID: "jti-\(index)", expiresAt: expiry)
                recorded.append("jti-\(index)")
            } catch is MemoryStoreFullError {
                refused += 1
            }
        }
        #expect(recorded.count <= 64 && recorded.count >= 16)
        #expect(refused == 2_000 - recorded.count)
        #expect(store.revokedTokenCount == recorded.count)
        let issued = Date(timeIntervalSince1970: clock.now)
        for id in recorded { #expect(try await store.isRevoked(tokenID: id, subject: "s", issuedAt: issued), "\(id) was forgotten") }
        #expect(try await store.isRevoked(tokenID: "never-revoked", subject: "s", issuedAt: issued) == false)
        #expect(logs.lines.filter { $0.contains("token deny-list is full") }.count == 1)

        let sessions = try SessionTokens<AppSession>(keys: KeySet(activeKey: JWK.generate(.es256)), revocations: store, now: clock.function)
        let older = try sessions.create(.user(userID: "1", tenantID: nil))
        clock.advance(5)
        let token = try sessions.create(.user(userID: "1", tenantID: nil))
        let other = try sessions.create(.user(userID: "2", tenantID: nil))
        try await sessions.revoke(try await sessions.verify(token))
        await #expect(throws: TokenError.revoked) { try await sessions.verify(token) }
        await #expect(throws: TokenError.revoked) { try await sessions.verify(older) }
        #expect(try await sessions.verify(other).subjectID == "user:userID:2")
        clock.advance(1)
        let newer = try sessions.create(.user(userID: "1", tenantID: nil))
        #expect(try await sessions.verify(newer).subjectID == "user:userID:1")
    }

    /// When the subject cut-offs (the last resort) are full too, revocations throw and every check fails closed:
    /// tokens are refused as "revocation unavailable" until expiry makes room, and then nothing was lost.
    @Test func fullCutOffsFailClosedUntilThereIsRoom() async throws {
        let store = MemoryRevocationStore(capacity: 64, retention: 600, logger: logs.logger(), now: clock.function)
        try await store.revokeAll(subject: "user:victim", issuedBefore: Date(timeIntervalSince1970: clock.now))
        var refused = 0
        for index in 0..<2_000 {
            do { try await store.revokeAll(subject: "flood-\(index)", issuedBefore: Date(timeIntervalSince1970: clock.now)) } catch is MemoryStoreFullError { refused += 1 }
        }
        #expect(refused > 1_900)
        #expect(store.subjectCutoffs["user:victim"] != nil)
        await #expect(throws: MemoryStoreFullError.self) {
            try await store.isRevoked(tokenID: "never-revoked", subject: "s", issuedAt: Date(timeIntervalSince1970: clock.now))
        }
        #expect(throws: MemoryStoreFullError.self) { try store.revocationStatus(tokenID: "never-revoked", subject: "s", issuedAt: Date(timeIntervalSince1970: clock.now)).ready?.get() }
        let sessions = try SessionTokens<AppSession>(keys: KeySet(activeKey: JWK.generate(.es256)), revocations: store, now: clock.function)
        let token = try sessions.create(.user(userID: "1", tenantID: nil))
        await #expect(throws: TokenError.revocationUnavailable) { try await sessions.verify(token) }
        // A sweep a second later finds every cut-off live: still refusing.
        clock.advance(1)
        await #expect(throws: TokenError.revocationUnavailable) { try await sessions.verify(token) }
        #expect(logs.lines.filter { $0.contains("subject cut-offs is full") }.count == 1)
        // Past the retention the cut-offs go, and checks answer again.
        clock.advance(600)
        #expect(try await sessions.verify(token).subjectID == "user:userID:1")
        #expect(logs.lines.filter { $0.contains("has room again") }.count == 1)
    }

    /// A flood of revocations of other tokens and other subjects pushes out neither a revoked token nor a
    /// subject's "sign out everywhere" cut-off.
    @Test func recordedRevocationsSurviveAFlood() async throws {
        let store = MemoryRevocationStore(capacity: 64, logger: logs.logger(), now: clock.function)
        try await store.revoke(tokenID: "stolen", expiresAt: Date(timeIntervalSince1970: clock.now + 3_600))
        try await store.revokeAll(subject: "user:victim", issuedBefore: Date(timeIntervalSince1970: clock.now))
        let expiry = Date(timeIntervalSince1970: clock.now + 600)
        for index in 0..<5_000 {
            try? await store.revoke(tokenID: "flood-\(index)", expiresAt: expiry)
            try? await store.revokeAll(subject: "flood-\(index)", issuedBefore: expiry)
        }
        #expect(store.revokedTokens["stolen"] != nil)
        #expect(store.subjectCutoffs["user:victim"] != nil)
        // Checks fail closed while full; a sweep a second later finds every entry live, so it keeps refusing.
        for _ in 0..<2 {
            await #expect(throws: MemoryStoreFullError.self) {
                try await store.isRevoked(tokenID: "stolen", subject: "x", issuedAt: Date(timeIntervalSince1970: clock.now - 10))
            }
            clock.advance(1)
        }
        #expect(store.revokedTokens["stolen"] != nil && store.subjectCutoffs["user:victim"] != nil)
    }

    /// Once the flood's entries expire, checks answer again and the victim's revocations still hold.
    @Test func aFloodedRevocationStoreRecoversWithItsRevocations() async throws {
        let store = MemoryRevocationStore(capacity: 64, logger: logs.logger(), now: clock.function)
        try await store.revoke(tokenID: "stolen", expiresAt: Date(timeIntervalSince1970: clock.now + 3_600))
        try await store.revokeAll(subject: "user:victim", issuedBefore: Date(timeIntervalSince1970: clock.now))
        for index in 0..<5_000 {
            try? await store.revoke(tokenID: "flood-\(index)", expiresAt: Date(timeIntervalSince1970: clock.now + 600))
        }
        clock.advance(601)
        #expect(try await store.isRevoked(tokenID: "stolen", subject: "x", issuedAt: Date(timeIntervalSince1970: clock.now - 700)))
        #expect(try await store.isRevoked(tokenID: "other", subject: "user:victim", issuedAt: Date(timeIntervalSince1970: clock.now - 700)))
        #expect(try await store.isRevoked(tokenID: "other", subject: "user:other", issuedAt: Date(timeIntervalSince1970: clock.now - 700)) == false)
    }

    /// Used IDs: each stays used while the store is full; a new ID that does not fit throws (the sign-in answers
    /// 503) rather than make an old one redeemable again.
    @Test func aFullReplayStoreKeepsEveryUsedID() async throws {
        let store = MemoryReplayStore(capacity: 64, logger: logs.logger(), now: clock.function)
        let expiry = Date(timeIntervalSince1970: clock.now + 600)
        var used: [String] = []
        var refused = 0
        for index in 0..<2_000 {
            do {
                if try await store.consume("id-\(index)", expiresAt: expiry) { used.append("id-\(index)") }
            } catch is MemoryStoreFullError {
                refused += 1
            }
        }
        #expect(used.count <= 64 && used.count >= 16 && refused == 2_000 - used.count)
        #expect(store.entryCount == used.count)
        for id in used { #expect(try await store.consume(id, expiresAt: expiry) == false, "\(id) became redeemable again") }
        #expect(logs.lines.filter { $0.contains("refuses new ones") }.count == 1)
        clock.advance(601)
        #expect(try await store.consume("fresh", expiresAt: Date(timeIntervalSince1970: clock.now + 600)))
    }

    /// Rate limits: a flood of new keys cannot push out a partly used bucket; a key that finds no room is limited.
    @Test func aFullRateLimiterLimitsNewKeysAndResetsNoOne() async throws {
        let limiter = MemoryRateLimiter(capacity: 2, refillInterval: 60, maximumKeys: 64, logger: logs.logger(), now: clock.function)
        // The victim's bucket is used up.
        #expect(try await limiter.consume("address:victim@example.com") == nil)
        #expect(try await limiter.consume("address:victim@example.com") == nil)
        #expect(try await limiter.consume("address:victim@example.com") != nil)
        var allowed = 0, limited = 0
        for index in 0..<2_000 {
            if try await limiter.consume("flood-\(index)") == nil { allowed += 1 } else { limited += 1 }
        }
        #expect(allowed < 64 && limited > 1_900)
        #expect(limiter.trackedKeyCount == allowed + 1 && limiter.trackedKeyCount <= 64)
        // Still limited: the flood did not reset the victim's bucket.
        #expect(try await limiter.consume("address:victim@example.com") != nil)
        #expect(logs.lines.filter { $0.contains("refuses new ones") }.count == 1)
        // Once buckets have refilled they may be forgotten, and new keys are served again.
        clock.advance(121)
        #expect(try await limiter.consume("new-client") == nil)
    }

    /// The group index of the memory session store forgets expired and evicted members: it stays within twice
    /// the live sessions plus a constant, however many sessions come and go.
    @Test func theMemoryStoresGroupIndexIsBounded() async throws {
        let clock = self.clock
        let store = MemorySessionStore(maximumSessions: 256, now: { Date(timeIntervalSince1970: clock.now) })
        for round in 0..<40 {
            for index in 0..<100 {
                let key = String(format: "%064d", round * 1_000 + index)
                try await store.create(SessionRecord(key: key, group: "user:\(index % 7)", value: [1], expiresAt: Date(timeIntervalSince1970: clock.now + 5)))
            }
            clock.advance(10)  // every session of the round expires
        }
        #expect(store.groupMemberships <= 2 * 256 + 1_024)
        #expect(store.recordCount <= 256)
        // Live members are all still listed.
        let live = (0..<50).map { String(format: "live%060d", $0) }
        for key in live { try await store.create(SessionRecord(key: key, group: "user:live", value: [1], expiresAt: Date(timeIntervalSince1970: clock.now + 600))) }
        #expect(Set(try await store.listGroup("user:live").map(\.key)) == Set(live))
    }

    /// Through the link provider: a full replay store makes the link's redemption answer 503
    /// `temporarily_unavailable` (no session, the link still unused), and a full per-client limiter answers 429.
    @Test func theLinkProviderFailsClosedOnFullStores() async throws {
        let replay = MemoryReplayStore(capacity: 16, logger: logs.logger(), now: clock.function)
        let perClient = MemoryRateLimiter(capacity: 1, refillInterval: 3_600, maximumKeys: 16, logger: logs.logger(), now: clock.function)
        for index in 0..<500 {
            _ = try? await replay.consume("filler-\(index)", expiresAt: Date(timeIntervalSince1970: clock.now + 300))
            _ = try await perClient.consume("filler-\(index)")
        }
        let delivered = Mutex<[String]>([])
        let link = LinkProvider(
            configuration: LinkProvider.Configuration(perClient: perClient, replay: replay, deliversInBackground: false), now: clock.function
        ) { link, _ in delivered.withLock { $0.append(link) } }
        let handler = AuthHandler(providers: ["link": link], configuration: AuthConfiguration(baseURL: "https://app.example"), keys: try KeySet(activeKey: JWK.generate(.es256))) { _ in
            .json(["signedIn": true])
        }
        // A client the full limiter cannot track is limited.
        let limited = await handler.handle(AuthRequest(
            head: HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/link/authorize?email=ada@example.com"),
            clientAddress: "203.0.113.50"))
        #expect(limited.head.status == .tooManyRequests)
        // Without a client address only the address limit applies, and the link is sent.
        var ask = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: "/auth/link/authorize?email=ada@example.com")
        ask.headerFields[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
        let sent = await handler.handle(AuthRequest(head: ask))
        #expect(sent.head.status == .ok)
        let url = try #require(delivered.withLock { $0.last })
        let binding = try #require(sent.head.headerFields[.setCookie]).prefix { $0 != ";" }
        var callback = HTTPRequest(method: .get, scheme: "https", authority: "app.example", path: String(url.dropFirst("https://app.example".count)))
        callback.headerFields[.cookie] = String(binding)
        let refused = await handler.handle(AuthRequest(head: callback))
        #expect(refused.head.status == .serviceUnavailable)
        #expect(try JSONValue(parsing: refused.body)["error"] == "temporarily_unavailable")
        #expect(try JSONValue(parsing: refused.body)["signedIn"] == nil)
        // Once room comes back (the fillers expire, the link does not yet) the same link still works: the refusal
        // redeemed nothing.
        clock.advance(301)
        let signedIn = await handler.handle(AuthRequest(head: callback))
        #expect(try JSONValue(parsing: signedIn.body)["signedIn"] == true)
    }
}

import HTTPTypes
import Synchronization
