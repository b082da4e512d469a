import Foundation
import Sesame
import SesameSQLite
import ServiceLifecycleTestKit
import Testing

/// What only SQLite has: a file that outlives the app, and a database that may not open.
@Suite(.timeLimit(.minutes(3))) struct SQLiteTests {
    static func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-sqlite-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A committed session survives the app: the storage is closed and a new one opens the same file.
    @Test func sessionsSurviveARestartOfTheApp() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.sqlite").path
        let record = StoreBehaviourTests.record(group: "user:ada", value: "cart")
        let first = SQLiteStorage(path: path)
        try await SQLiteSessionStore(storage: first).create(record)
        try await first.close()

        let second = SQLiteStorage(path: path)
        let reopened = try #require(try await SQLiteSessionStore(storage: second).get(record.key))
        #expect(reopened.value == record.value && reopened.group == "user:ada")
        try await second.close()
    }

    /// A database that cannot be opened makes operations fail with `unavailable`; once it can, the same
    /// storage recovers by itself.
    @Test func anUnopenableDatabaseIsUnavailableAndRecovers() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("not-yet")
        let storage = SQLiteStorage(path: missing.appendingPathComponent("sessions.sqlite").path)
        let store = SQLiteSessionStore(storage: storage)
        await #expect(throws: SessionStoreError.self) { try await store.get(StoreBehaviourTests.key()) }
        do {
            _ = try await store.get(StoreBehaviourTests.key())
        } catch let error as SessionStoreError {
            guard case .unavailable = error else { Issue.record("expected unavailable, got \(error)"); return }
        }
        try FileManager.default.createDirectory(at: missing, withIntermediateDirectories: true)
        let record = StoreBehaviourTests.record()
        try await store.create(record)
        #expect(try await store.get(record.key) != nil)
        try await storage.close()
    }

    /// Expired rows are deleted, not only hidden.
    @Test func cleanupRemovesExpiredRows() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = SQLiteStorage(path: directory.appendingPathComponent("sessions.sqlite").path)
        let store = SQLiteSessionStore(storage: storage)
        for _ in 0..<3 { try await store.create(StoreBehaviourTests.record(lifetime: -5)) }
        let live = StoreBehaviourTests.record()
        try await store.create(live)
        #expect(try await storage.deleteExpired() == 3)
        #expect(try await storage.deleteExpired() == 0)
        #expect(try await store.get(live.key) != nil)
        try await storage.close()
    }

    /// The cleanup service on the SQLite file: its first pass deletes the expired rows and keeps the live one, and a
    /// graceful shutdown ends its hour-long wait at once.
    @Test func theCleanupServiceCleansTheFileAndStopsOnShutdown() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = SQLiteStorage(path: directory.appendingPathComponent("sessions.sqlite").path)
        let store = SQLiteSessionStore(storage: storage)
        for _ in 0..<2 { try await store.create(StoreBehaviourTests.record(lifetime: -5)) }
        let live = StoreBehaviourTests.record()
        try await store.create(live)
        let (passes, pass) = AsyncStream.makeStream(of: Int.self)
        let service = StoreCleanupService(stores: [ObservedStore(base: storage, passes: pass)], interval: .seconds(3600))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await service.run() }
                var iterator = passes.makeAsyncIterator()
                #expect(await iterator.next() == 2)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(try await store.get(live.key) != nil)
        #expect(try await storage.deleteExpired() == 0)
        try await storage.close()
    }
}

/// A store whose cleanups are announced.
struct ObservedStore: ExpiringStore {
    let base: any ExpiringStore
    let passes: AsyncStream<Int>.Continuation

    func deleteExpiredRecords() async throws -> Int {
        let removed = try await base.deleteExpiredRecords()
        passes.yield(removed)
        return removed
    }
}
