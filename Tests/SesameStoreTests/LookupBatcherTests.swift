import NIOCore
import Synchronization
import Testing

@testable import SesamePostgres
import Sesame

/// Concurrent session lookups share PostgreSQL queries without mixing up their answers.
@Suite(.timeLimit(.minutes(1))) struct LookupBatcherTests {
    /// A gate that waiting tasks sleep behind (no spinning: a spinning task would hold one of the few threads every
    /// other test shares for as long as it waits).
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state in
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if now { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLock { state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Counts the queries and the keys each asked for; the first `holdFirst` queries wait until `release` opens.
    final class FakeTable: Sendable {
        let queries = Mutex<[[String]]>([])
        /// How many keys the queries so far asked for.
        var keysAsked: Int { queries.withLock { $0.joined().count } }
        let release = Gate()
        let holdFirst: Int
        let failing: Bool
        init(holdFirst: Int, failing: Bool = false) {
            self.holdFirst = holdFirst
            self.failing = failing
        }

        struct Down: Error {}

        func fetch(_ keys: [String]) async throws -> [String: String] {
            let index = queries.withLock { $0.append(keys); return $0.count - 1 }
            if index < holdFirst { await release.wait() }
            if failing { throw Down() }
            // Even keys exist; odd ones do not.
            return Dictionary(uniqueKeysWithValues: keys.filter { Int($0)!.isMultiple(of: 2) }.map { ($0, "value-" + $0) })
        }
    }

    @Test func lookupsQueuedBehindBusyQueriesShareTheNextOneAndGetTheirOwnAnswers() async throws {
        let table = FakeTable(holdFirst: 2)
        let batcher = LookupBatcher<String>(maximumQueries: 2, maximumBatch: 64, deadline: .seconds(60)) { try await table.fetch($0) }
        let callers = 100
        let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<callers { group.addTask { (index, try await batcher.value(for: String(index))) } }
            // Two queries hold both slots (with whatever lookups their leaders gathered in their scheduler turn);
            // every other lookup queues, then the slots free up.
            while table.keysAsked + batcher.waitingCount < callers { await Task.yield() }
            table.release.open()
            return try await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == callers)
        for (index, answer) in answers {
            #expect(answer == (index.isMultiple(of: 2) ? "value-\(index)" : nil), "lookup \(index)")
        }
        // The two held queries, then the rest queued behind them in queries of at most 64 keys: at most 2 + 2
        // queries, not 100, and each key asked for once.
        let queries = table.queries.withLock { $0 }
        #expect(queries.count <= 4)
        #expect(queries.allSatisfy { $0.count <= 64 })
        #expect(queries.joined().count == callers)
        #expect(Set(queries.joined()).count == callers)
    }

    @Test func aFailedQueryFailsEveryLookupItServedAndTheNextOnesStillRun() async throws {
        let table = FakeTable(holdFirst: 1, failing: true)
        let batcher = LookupBatcher<String>(maximumQueries: 1, deadline: .seconds(60)) { try await table.fetch($0) }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 { group.addTask { (try? await batcher.value(for: String(index))) == nil } }
            while table.keysAsked + batcher.waitingCount < 20 { await Task.yield() }
            table.release.open()
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes == Array(repeating: true, count: 20))
        // The held query, then at most one more for everything queued behind it.
        #expect((1...2).contains(table.queries.withLock { $0.count }))
        #expect(table.keysAsked == 20)
        // The slot was handed back: a later lookup runs (and fails) on its own.
        await #expect(throws: FakeTable.Down.self) { _ = try await batcher.value(for: "2") }
    }

    @Test func aQueryPastItsDeadlineFailsItsLookupsAndTheSlotGoesOn() async throws {
        // The first query hangs (until released at the end); the batcher has one slot.
        let table = FakeTable(holdFirst: 1)
        // (A deadline the scheduler cannot outrun on a loaded machine: a lookup that waits out its deadline before
        // its query even starts fails without one, which the next test shows.)
        let batcher = LookupBatcher<String>(maximumQueries: 1, deadline: .seconds(5)) { try await table.fetch($0) }
        let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
            for index in 0..<5 {
                group.addTask {
                    do {
                        _ = try await batcher.value(for: String(index))
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            return await group.reduce(into: [(any Error)?]()) { $0.append($1) }
        }
        // Every lookup the hung query took failed as unavailable; none hung.
        let hungKeys = table.queries.withLock { $0.first ?? [] }
        #expect(!hungKeys.isEmpty)
        #expect(outcomes.compactMap { $0 }.count == hungKeys.count)
        for case let error? in outcomes {
            guard case SessionStoreError.unavailable? = error as? SessionStoreError else {
                Issue.record("not unavailable: \(error)")
                continue
            }
        }
        // The slot was handed on: with the first query still hung, a new lookup runs and is answered.
        #expect(try await batcher.value(for: "2") == "value-2")
        table.release.open()
    }

    @Test func aLookupQueuedBehindASlowQueryHasItsOwnDeadlineNotAFreshOne() async throws {
        // One slot; the first query is slow (held at a gate). A second lookup queues behind it, and its deadline
        // passes while it waits (the test moves the batcher's clock on). When the slow query answers, the first
        // lookup gets its answer and the second fails at once, without a query of its own: time spent queued
        // counts, so a slow store never makes a lookup wait its queue time plus a whole deadline more.
        let table = FakeTable(holdFirst: 1)
        let skew = Atomic<Int64>(0)
        let batcher = LookupBatcher<String>(maximumQueries: 1, deadline: .seconds(30), now: { .now() + .nanoseconds(skew.load(ordering: .acquiring)) }) {
            try await table.fetch($0)
        }
        let first = Task { try await batcher.value(for: "0") }
        while table.queries.withLock({ $0.count }) < 1 { await Task.yield() }
        let second = Task { try await batcher.value(for: "2") }
        while batcher.waitingCount < 1 { await Task.yield() }
        skew.store(Int64(60 * 1_000_000_000), ordering: .releasing)
        table.release.open()
        #expect(try await first.value == "value-0")
        await #expect(throws: SessionStoreError.self) { _ = try await second.value }
        #expect(table.queries.withLock { $0.count } == 1)
        // The slot is free again, and a lookup asked for now is on time.
        #expect(try await batcher.value(for: "4") == "value-4")
    }
}
