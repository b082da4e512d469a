import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@testable import Sesame

/// The cleanup service's lifecycle: every store tried on each pass, failures logged and retried, and a prompt stop
/// on graceful shutdown or cancellation (no pass is timed: the tests wait for the passes themselves).
@Suite struct StoreCleanupServiceTests {
    /// A store that counts its cleanups, announces them, and fails while told to.
    final class FakeStore: ExpiringStore {
        let passes: AsyncStream<Int>.Continuation
        let stream: AsyncStream<Int>
        private let state = Mutex((calls: 0, failing: false))

        init(failing: Bool = false) {
            (stream, passes) = AsyncStream.makeStream(of: Int.self)
            state.withLock { $0.failing = failing }
        }

        var calls: Int { state.withLock { $0.calls } }

        func deleteExpiredRecords() async throws -> Int {
            let (call, failing) = state.withLock { state in
                state.calls += 1
                return (state.calls, state.failing)
            }
            passes.yield(call)
            if failing { throw SessionStoreError.unavailable("down") }
            return 3
        }
    }

    @Test func everyStoreIsCleanedAndTheFirstFailureIsReported() async throws {
        let down = FakeStore(failing: true), up = FakeStore()
        let service = StoreCleanupService(stores: [down, up])
        await #expect(throws: SessionStoreError.unavailable("down")) { try await service.cleanOnce() }
        #expect(down.calls == 1 && up.calls == 1)
        #expect(try await StoreCleanupService(stores: [up, FakeStore()]).cleanOnce() == 6)
    }

    @Test func aFailingStoreIsTriedAgainAndTheServiceGoesOn() async throws {
        let down = FakeStore(failing: true), up = FakeStore()
        let service = StoreCleanupService(stores: [down, up], interval: .milliseconds(1))
        let running = Task { await service.run() }
        // Three passes: the failure did not stop the service, nor the other store.
        var passes = up.stream.makeAsyncIterator()
        for expected in 1...3 { #expect(await passes.next() == expected) }
        running.cancel()
        await running.value
        #expect(down.calls >= 3)
    }

    @Test func gracefulShutdownEndsTheWaitAtOnce() async throws {
        let store = FakeStore()
        let service = StoreCleanupService(stores: [store], interval: .seconds(24 * 3600))
        await testGracefulShutdown { trigger in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await service.run() }
                var passes = store.stream.makeAsyncIterator()
                #expect(await passes.next() == 1)
                trigger.triggerGracefulShutdown()
                // Returns: the day-long sleep ended with the shutdown.
                await group.waitForAll()
            }
        }
        #expect(store.calls == 1)
    }

    @Test func aServiceGroupRunsAndStopsIt() async throws {
        let store = FakeStore()
        let service = StoreCleanupService(stores: [store], interval: .seconds(24 * 3600))
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var passes = store.stream.makeAsyncIterator()
            #expect(await passes.next() == 1)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func cancellationStopsItToo() async throws {
        let store = FakeStore()
        let running = Task { await StoreCleanupService(stores: [store], interval: .seconds(24 * 3600)).run() }
        var passes = store.stream.makeAsyncIterator()
        #expect(await passes.next() == 1)
        running.cancel()
        await running.value
        #expect(store.calls == 1)
    }
}
