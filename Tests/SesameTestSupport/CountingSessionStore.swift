import Foundation
import Sesame
import Synchronization

/// A memory session store for integration tests: it counts what it is asked, and the test can switch it off
/// (every call then fails as an unreachable store does).
public final class CountingSessionStore: SessionStore {
    /// The store that keeps the records.
    public let inner: MemorySessionStore
    /// How many reads, writes (creations and updates) and deletes it has answered.
    public let gets = Atomic(0), sets = Atomic(0), deletes = Atomic(0)
    /// Whether the store is switched off.
    public let isDown = Atomic(false)

    /// Creates an empty store.
    ///
    /// - Parameter now: The clock its records expire by.
    public init(now: @escaping @Sendable () -> Date = Date.init) { inner = MemorySessionStore(now: now) }

    /// Throws ``SessionStoreError/unavailable(_:)`` while the store is switched off.
    func check() throws {
        if isDown.load(ordering: .relaxed) { throw SessionStoreError.unavailable("switched off by the test") }
    }

    public func get(_ key: String) async throws -> SessionRecord? {
        try check(); gets.add(1, ordering: .relaxed); return try await inner.get(key)
    }
    public func create(_ record: SessionRecord) async throws { try check(); sets.add(1, ordering: .relaxed); try await inner.create(record) }
    public func update(_ record: SessionRecord) async throws -> Bool { try check(); sets.add(1, ordering: .relaxed); return try await inner.update(record) }
    public func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        try check(); sets.add(1, ordering: .relaxed); return try await inner.replace(record, expectedValue: expectedValue)
    }
    public func delete(_ key: String) async throws { try check(); deletes.add(1, ordering: .relaxed); try await inner.delete(key) }
    public func deleteGroup(_ group: String) async throws -> Int { try check(); return try await inner.deleteGroup(group) }
    public func listGroup(_ group: String) async throws -> [SessionRecord] { try check(); return try await inner.listGroup(group) }

    /// The counts so far.
    public var counts: (gets: Int, sets: Int, deletes: Int) {
        (gets.load(ordering: .relaxed), sets.load(ordering: .relaxed), deletes.load(ordering: .relaxed))
    }

    /// Sets the counts back to zero.
    public func resetCounts() {
        gets.store(0, ordering: .relaxed); sets.store(0, ordering: .relaxed); deletes.store(0, ordering: .relaxed)
    }
}
