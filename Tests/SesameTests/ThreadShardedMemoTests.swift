import Synchronization
import Testing

@testable import Sesame

/// The memo behind typed subject decoding: it remembers results per thread, never failures, and stays bounded.
@Suite struct ThreadShardedMemoTests {
    struct Refused: Error {}

    @Test func remembersResultsNotFailuresAndStaysBounded() throws {
        let memo = ThreadShardedMemo<String, Int>(shardCount: 1, limitPerShard: 2)
        let calls = Mutex(0)
        func make(_ value: Int) -> () throws(Refused) -> Int {
            { () throws(Refused) -> Int in
                calls.withLock { $0 += 1 }
                return value
            }
        }
        #expect(try memo.value(for: "a", orMake: make(1)) == 1)
        #expect(try memo.value(for: "a", orMake: make(99)) == 1)  // remembered
        #expect(calls.withLock { $0 } == 1)
        #expect(try memo.value(for: "b", orMake: make(2)) == 2)
        // A failure is thrown every time, and nothing is remembered for its key.
        #expect(throws: Refused.self) { try memo.value(for: "c", orMake: { () throws(Refused) -> Int in throw Refused() }) }
        #expect(try memo.value(for: "c", orMake: make(3)) == 3)
        // The shard was full (a, b): it started over with c, so a is made again.
        #expect(try memo.value(for: "a", orMake: make(4)) == 4)
    }

    /// Decoded subjects are reused only for the same wire form: another subject decodes anew, and a token whose
    /// subject does not decode is refused every time.
    @Test func sessionSubjectsAreDecodedPerWireForm() async throws {
        let sessions = try SessionTokens<AppSession>(keys: KeySet(activeKey: JWK.generate(.es256)), configuration: SessionConfiguration(cacheCapacity: 0))
        let ada = try sessions.create(.user(userID: "ada", tenantID: nil))
        let bob = try sessions.create(.user(userID: "bob", tenantID: "t"))
        for _ in 0..<3 {
            #expect(try await sessions.verify(ada).subject == .user(userID: "ada", tenantID: nil))
            #expect(try await sessions.verify(bob).subject == .user(userID: "bob", tenantID: "t"))
            #expect(try await sessions.verify(sessions.create(.apiKey(keyID: "k"))).subject == .apiKey(keyID: "k"))
        }
    }
}
