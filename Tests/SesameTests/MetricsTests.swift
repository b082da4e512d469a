import CoreMetrics
import Foundation
import InMemoryTracing
import MetricsTestKit
import Testing
import Tracing

@testable import Sesame

/// ``SesameMetrics`` through swift-metrics' own test kit: what each metric counts, that nothing is reported (or
/// timed) without a backend, and that no label ever names a person, a token or an address.
@Suite struct MetricsTests {
    /// Every label value of every metric `metrics` holds contains none of `secrets`, no `@` and no dotted IPv4
    /// address.
    static func expectNoPersonalLabels(_ metrics: TestMetrics, secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        var values: [String] = []
        for counter in metrics.counters { values += counter.dimensions.map(\.1) }
        for timer in metrics.timers { values += timer.dimensions.map(\.1) }
        for meter in metrics.meters { values += meter.dimensions.map(\.1) }
        for recorder in metrics.recorders { values += recorder.dimensions.map(\.1) }
        #expect(!values.isEmpty, "no metric was reported", sourceLocation: sourceLocation)
        for value in values {
            #expect(!value.contains("@"), "label value \(value)", sourceLocation: sourceLocation)
            #expect(value.firstMatch(of: /\d+\.\d+\.\d+\.\d+/) == nil, "label value \(value)", sourceLocation: sourceLocation)
            for secret in secrets where !secret.isEmpty {
                #expect(!value.contains(secret), "label value \(value)", sourceLocation: sourceLocation)
            }
        }
    }

    /// The verified-token cache: the first check of a token is a miss, the next a hit; a forged token is a miss
    /// that never becomes a hit; without a cache nothing is counted.
    @Test func tokenCacheHitsAndMisses() async throws {
        let metrics = TestMetrics()
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let sessions = try SessionTokens<AppSession>(keys: keys, configuration: SessionConfiguration(metrics: SesameMetrics(factory: metrics)))
        let token = try sessions.create(.user(userID: "ada", tenantID: nil))
        _ = try await sessions.verify(token)
        _ = try await sessions.verify(token)
        _ = try await sessions.verify(token)
        var forged = Array(token.utf8)
        forged[forged.count - 2] = forged[forged.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        for _ in 0..<2 { await #expect(throws: TokenError.self) { try await sessions.verify(String(decoding: forged, as: UTF8.self)) } }
        #expect(metrics.counterTotal(label: SesameMetrics.Name.tokenCache, dimensions: [("result", "hit")]) == 2)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.tokenCache, dimensions: [("result", "miss")]) == 3)
        Self.expectNoPersonalLabels(metrics, secrets: [token, "ada"])

        let uncached = TestMetrics()
        let withoutCache = try SessionTokens<AppSession>(keys: keys, configuration: SessionConfiguration(cacheCapacity: 0, metrics: SesameMetrics(factory: uncached)))
        _ = try await withoutCache.verify(token)
        #expect(uncached.counterTotal(label: SesameMetrics.Name.tokenCache) == 0)
    }

    /// A store that is down: each failed operation is timed and counted under the store's type name and the
    /// operation, and the error reaches the caller unchanged.
    @Test func storeFailuresAreCountedPerStoreAndOperation() async throws {
        struct UnreachableStore: SessionStore {
            func get(_ key: String) async throws -> SessionRecord? { throw SessionStoreError.unavailable("connection refused") }
            func create(_ record: SessionRecord) async throws { throw SessionStoreError.unavailable("connection refused") }
            func update(_ record: SessionRecord) async throws -> Bool { throw SessionStoreError.unavailable("connection refused") }
            func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool { throw SessionStoreError.unavailable("connection refused") }
            func delete(_ key: String) async throws { throw SessionStoreError.unavailable("connection refused") }
            func deleteGroup(_ group: String) async throws -> Int { throw SessionStoreError.unavailable("connection refused") }
            func listGroup(_ group: String) async throws -> [SessionRecord] { throw SessionStoreError.unavailable("connection refused") }
        }
        let metrics = TestMetrics()
        let store = MeasuredSessionStore(UnreachableStore(), metrics: SesameMetrics(factory: metrics))
        #expect(store.name == "UnreachableStore")
        // Wrapping a measured store again measures it once.
        #expect(MeasuredSessionStore(store, metrics: SesameMetrics(factory: metrics)).name == "UnreachableStore")
        await #expect(throws: SessionStoreError.unavailable("connection refused")) { try await store.get("k") }
        await #expect(throws: SessionStoreError.unavailable("connection refused")) { try await store.get("k") }
        await #expect(throws: SessionStoreError.unavailable("connection refused")) { try await store.deleteGroup("user-1") }
        #expect(metrics.counterTotal(label: SesameMetrics.Name.storeFailures, dimensions: [("store", "UnreachableStore"), ("operation", "get")]) == 2)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.storeFailures, dimensions: [("store", "UnreachableStore"), ("operation", "delete_group")]) == 1)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.storeFailures, dimensions: [("store", "UnreachableStore"), ("operation", "create")]) == 0)
        #expect(try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "UnreachableStore"), ("operation", "get")]).values.count == 2)

        // A working store: timed, no failure.
        let memory = MeasuredSessionStore(MemorySessionStore(), metrics: SesameMetrics(factory: metrics))
        let record = SessionRecord(key: String(repeating: "a", count: 64), group: "user-1", value: [1], expiresAt: Date().addingTimeInterval(60))
        try await memory.create(record)
        #expect(try await memory.get(record.key) == record)
        #expect(try await memory.listGroup("user-1") == [record])
        #expect(metrics.counterTotal(label: SesameMetrics.Name.storeFailures, dimensions: [("store", "MemorySessionStore"), ("operation", "create")]) == 0)
        let created = try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "MemorySessionStore"), ("operation", "create")])
        #expect(created.values.count == 1 && created.values.allSatisfy { $0 >= 0 })
        Self.expectNoPersonalLabels(metrics, secrets: [record.key, "user-1"])
    }

    /// The password-hash queue's depth goes up while hashes run or wait and back to zero; a hash the full queue
    /// refuses is never counted.
    @Test func passwordHashQueueDepth() async throws {
        let metrics = TestMetrics()
        let queue = PasswordHashingQueue(maximumConcurrent: 1, maximumWaiting: 1, metrics: SesameMetrics(factory: metrics))
        let release = DispatchSemaphore(value: 0)
        let started = AsyncStream<Void>.makeStream()
        let running = Task {
            try await queue.run {
                started.continuation.yield()
                // Holds the one thread until the test has seen the depth.
                release.wait()
                return 1
            }
        }
        for await _ in started.stream { break }
        let waiting = Task { try await queue.run { 2 } }
        // The second one waits (depth 2); a third is refused.
        while queue.load < 2 { await Task.yield() }
        await #expect(throws: AuthError.serverBusy) { try await queue.run { 3 } }
        release.signal()
        #expect(try await running.value == 1)
        #expect(try await waiting.value == 2)
        let meter = try metrics.expectMeter(SesameMetrics.Name.passwordHashQueueDepth)
        #expect(meter.values.max() == 2)
        #expect(meter.lastValue == 0)
    }

    /// Without a metrics backend (swift-metrics' no-op one), nothing is wrapped or timed; ``SesameMetrics/disabled``
    /// reports nothing even with one.
    @Test func withoutABackendNothingIsMeasured() async throws {
        let none = SesameMetrics(factory: NOOPMetricsHandler.instance)
        #expect(!none.isEnabled && !SesameMetrics.disabled.isEnabled)
        #expect(none.measuring(MemorySessionStore()) is MemorySessionStore)
        #expect(SesameMetrics(factory: TestMetrics()).measuring(MemorySessionStore()) is MeasuredSessionStore)
        let keys = try KeySet(activeKey: JWK.generate(.es256))
        let sessions = StoredSessions<AppSession, Int>(store: MemorySessionStore(), signer: SessionCookieSigner(keys: keys), configuration: StoredSessionConfiguration(metrics: .disabled))
        #expect(sessions.store is MemorySessionStore)
    }
}

extension MetricsTests {
    /// The account store's calls, timed per operation under the store's type name; `measuring` wraps only with a
    /// backend.
    @Test func accountStoreOperationsAreTimed() async throws {
        let metrics = TestMetrics()
        let store = SesameMetrics(factory: metrics).measuring(MemoryAccountStore())
        #expect((store as? MeasuredAccountStore)?.name == "MemoryAccountStore")
        #expect(SesameMetrics.disabled.measuring(MemoryAccountStore()) is MemoryAccountStore)
        let user = AuthUser(email: "grace@example.com")
        try await store.createUser(user, account: nil)
        #expect(try await store.user(email: "grace@example.com")?.id == user.id)
        #expect(try await store.user(id: "no-such-user") == nil)
        #expect(try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "MemoryAccountStore"), ("operation", "create_user")]).values.count == 1)
        #expect(try metrics.expectTimer(SesameMetrics.Name.storeOperationDuration, [("store", "MemoryAccountStore"), ("operation", "user")]).values.count == 2)
        #expect(metrics.counterTotal(label: SesameMetrics.Name.storeFailures) == 0)
        Self.expectNoPersonalLabels(metrics, secrets: ["grace@example.com", user.id, "no-such-user"])
    }
}

extension MetricsTests {
    /// With a tracer, each store call is a `sesame.store.OPERATION` client span naming the store and the operation
    /// (never the key, the group or the value), a failed call's span records the error, and metrics may be off.
    @Test func storeCallsAreTraced() async throws {
        let tracer = InMemoryTracer()
        let store = MeasuredSessionStore(MemorySessionStore(), metrics: .disabled, tracer: tracer)
        let record = SessionRecord(key: String(repeating: "b", count: 64), group: "user-7", value: Array("secret-value".utf8), expiresAt: Date().addingTimeInterval(60))
        try await store.create(record)
        _ = try await store.get(record.key)
        #expect(tracer.finishedSpans.map(\.operationName) == ["sesame.store.create", "sesame.store.get"])
        for span in tracer.finishedSpans {
            #expect(span.kind == .client)
            #expect(span.attributes["sesame.store"]?.toSpanAttribute() == "MemorySessionStore")
            span.attributes.forEach { _, value in
                let text = "\(value)"
                #expect(!text.contains(record.key) && !text.contains("user-7") && !text.contains("secret-value"))
            }
        }
        struct Down: SessionStore {
            func get(_ key: String) async throws -> SessionRecord? { throw SessionStoreError.unavailable("down") }
            func create(_ record: SessionRecord) async throws {}
            func update(_ record: SessionRecord) async throws -> Bool { false }
            func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool { false }
            func delete(_ key: String) async throws {}
            func deleteGroup(_ group: String) async throws -> Int { 0 }
            func listGroup(_ group: String) async throws -> [SessionRecord] { [] }
        }
        tracer.clearAll()
        let down = MeasuredSessionStore(Down(), metrics: .disabled, tracer: tracer)
        await #expect(throws: SessionStoreError.unavailable("down")) { try await down.get("k") }
        let failed = try #require(tracer.finishedSpans.first)
        #expect(failed.operationName == "sesame.store.get" && failed.errors.count == 1)
    }
}
