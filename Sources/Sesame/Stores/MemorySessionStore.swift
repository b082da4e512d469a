import Foundation
import Synchronization

/// A ``SessionStore`` in this process's memory: bounded, expiring, and gone when the process ends.
///
/// Reads take one of 16 shard locks, so resolving sessions scales across cores. Writes also take the group
/// index's lock, which makes group changes and ``deleteGroup(_:)`` atomic. When full, a shard drops its expired
/// records first and then an arbitrary one (that session ends early). For more than one server process, use a
/// shared store (Redis, PostgreSQL).
public final class MemorySessionStore: SessionStore {
    private let records: StripedDictionary<String, SessionRecord>
    private let groups = Mutex<[String: Set<String>]>([:])
    private let now: @Sendable () -> Date

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - maximumSessions: How many sessions are kept at most.
    ///   - now: The clock.
    public init(maximumSessions: Int = 1_000_000, now: @escaping @Sendable () -> Date = { Date() }) {
        records = StripedDictionary(capacity: maximumSessions)
        self.now = now
    }

    public func get(_ key: String) async throws -> SessionRecord? {
        guard let record = records[key] else { return nil }
        return record.expiresAt > now() ? record : nil
    }

    public func set(_ record: SessionRecord) async throws {
        let current = now()
        groups.withLock { groups in
            let previous = records[record.key]?.group
            if let previous, previous != record.group { Self.remove(record.key, from: previous, in: &groups) }
            if let group = record.group { groups[group, default: []].insert(record.key) }
            records.insert(record, for: record.key) { $0.expiresAt <= current }
        }
    }

    public func delete(_ key: String) async throws {
        groups.withLock { groups in
            if let group = records[key]?.group { Self.remove(key, from: group, in: &groups) }
            records.removeValue(for: key)
        }
    }

    public func deleteGroup(_ group: String) async throws -> Int {
        let current = now()
        return groups.withLock { groups in
            var removed = 0
            for key in groups.removeValue(forKey: group) ?? [] {
                if let record = records[key], record.expiresAt > current { removed += 1 }
                records.removeValue(for: key)
            }
            return removed
        }
    }

    public func listGroup(_ group: String) async throws -> [SessionRecord] {
        let current = now()
        let keys = groups.withLock { groups in
            // Forget members that expired or were evicted.
            let members = groups[group] ?? []
            let live = members.filter { key in records[key].map { $0.expiresAt > current } ?? false }
            if live.count != members.count { groups[group] = live.isEmpty ? nil : live }
            return live
        }
        return keys.compactMap { records[$0] }.filter { $0.expiresAt > current }
    }

    private static func remove(_ key: String, from group: String, in groups: inout [String: Set<String>]) {
        groups[group]?.remove(key)
        if groups[group]?.isEmpty == true { groups[group] = nil }
    }
}
