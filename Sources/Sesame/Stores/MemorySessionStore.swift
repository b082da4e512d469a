import Foundation
import Synchronization

/// A ``SessionStore`` in this process's memory: bounded, expiring, and gone when the process ends.
///
/// Reads take one of 16 shard locks, so resolving sessions scales across cores. Writes also take the group
/// index's lock, which makes group changes, conditional updates and ``deleteGroup(_:)`` atomic. When full, a
/// shard drops its expired records first and then an arbitrary one (that session ends early: it is signed out,
/// never handed to anyone else). The group index forgets members that expired or were dropped, so it stays
/// within twice the live sessions (plus a constant). For more than one server process, use a shared store
/// (Redis, PostgreSQL).
public final class MemorySessionStore: SessionStore {
    private let records: StripedDictionary<String, SessionRecord>
    private let groups = Mutex(GroupIndex())
    private let now: @Sendable () -> Date

    /// Group memberships, with a count that triggers pruning of members whose records are gone.
    private struct GroupIndex {
        var members: [String: Set<String>] = [:]
        var count = 0
        var pruneAt = GroupIndex.minimumPruneThreshold
        static let minimumPruneThreshold = 1024

        mutating func insert(_ key: String, into group: String) {
            if members[group, default: []].insert(key).inserted { count += 1 }
        }

        mutating func remove(_ key: String, from group: String) {
            guard members[group]?.remove(key) != nil else { return }
            count -= 1
            if members[group]?.isEmpty == true { members[group] = nil }
        }
    }

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - maximumSessions: How many sessions are kept at most.
    ///   - now: The clock.
    public init(maximumSessions: Int = 1_000_000, now: @escaping @Sendable () -> Date = { Date() }) {
        records = StripedDictionary(capacity: maximumSessions)
        self.now = now
    }

    /// How many session records are held now, expired ones not yet swept included (at most `maximumSessions`).
    public var recordCount: Int { records.statistics.entries }

    public func get(_ key: String) async throws -> SessionRecord? {
        guard let record = records[key] else { return nil }
        return record.expiresAt > now() ? record : nil
    }

    public func create(_ record: SessionRecord) async throws {
        let current = now()
        try groups.withLock { index in
            let existing = records[record.key]
            if let existing, existing.expiresAt > current { throw SessionStoreError.keyInUse }
            write(record, over: existing, in: &index, now: current)
            pruneIfDue(&index, now: current)
        }
    }

    public func update(_ record: SessionRecord) async throws -> Bool {
        let current = now()
        return groups.withLock { index in
            // Only a live record is replaced: a session deleted or terminated meanwhile stays gone.
            guard let existing = records[record.key], existing.expiresAt > current else { return false }
            write(record, over: existing, in: &index, now: current)
            return true
        }
    }

    public func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        let current = now()
        return groups.withLock { index in
            guard let existing = records[record.key], existing.expiresAt > current, existing.value == expectedValue else { return false }
            write(record, over: existing, in: &index, now: current)
            return true
        }
    }

    /// Stores `record` in place of `previous` (an expired record under its key, or the live one being updated),
    /// keeping the group index in step; an already expired record is dropped instead. Called under the index lock.
    private func write(_ record: SessionRecord, over previous: SessionRecord?, in index: inout GroupIndex, now current: Date) {
        if let group = previous?.group, group != record.group || record.expiresAt <= current { index.remove(record.key, from: group) }
        guard record.expiresAt > current else {
            records.removeValue(for: record.key)
            return
        }
        if let group = record.group { index.insert(record.key, into: group) }
        records.insert(record, for: record.key, now: current.timeIntervalSince1970) { $0.expiresAt <= current }
    }

    /// Whether `key` is a live member of `group`: its record exists, has not expired and is still in that group.
    private func isLiveMember(_ key: String, of group: String, at current: Date) -> Bool {
        records[key].map { $0.expiresAt > current && $0.group == group } ?? false
    }

    public func delete(_ key: String) async throws {
        groups.withLock { index in
            if let group = records[key]?.group { index.remove(key, from: group) }
            records.removeValue(for: key)
        }
    }

    public func deleteGroup(_ group: String) async throws -> Int {
        let current = now()
        return groups.withLock { index in
            var removed = 0
            for key in index.members[group] ?? [] {
                if let record = records[key], record.expiresAt > current { removed += 1 }
                index.remove(key, from: group)
                records.removeValue(for: key)
            }
            return removed
        }
    }

    public func listGroup(_ group: String) async throws -> [SessionRecord] {
        let current = now()
        let keys = groups.withLock { index in
            // Forget members that expired or were evicted.
            let members = index.members[group] ?? []
            let live = members.filter { isLiveMember($0, of: group, at: current) }
            for key in members.subtracting(live) { index.remove(key, from: group) }
            return live
        }
        return keys.compactMap { records[$0] }.filter { $0.expiresAt > current }
    }

    /// How many group memberships the index holds (live or not yet pruned; within about twice the live sessions).
    public var groupMemberships: Int { groups.withLock { $0.count } }

    /// Drops the memberships of records that expired or were evicted, once the index has doubled since the last
    /// time: amortized O(1) per write, and the index stays within twice the live memberships plus a constant.
    private func pruneIfDue(_ index: inout GroupIndex, now current: Date) {
        guard index.count >= index.pruneAt else { return }
        var pruned = GroupIndex()
        for (group, keys) in index.members {
            for key in keys where isLiveMember(key, of: group, at: current) {
                pruned.insert(key, into: group)
            }
        }
        pruned.pruneAt = max(GroupIndex.minimumPruneThreshold, 2 * pruned.count)
        index = pruned
    }
}
