import Synchronization

/// A bounded dictionary split into independently locked shards.
///
/// Readers and writers of different shards never wait for each other, so a lookup on the request path
/// scales across cores without an actor or one global lock. Each shard holds at most `capacity / shards`
/// entries; when a shard is full, `insert` first drops entries its `isStale` predicate rejects, then evicts
/// an arbitrary entry.
@usableFromInline
final class StripedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline
    struct State: Sendable {
        @usableFromInline var entries: [Key: Value] = [:]
        /// Lookup outcomes, counted under the lookup's own lock, so counting adds no contention.
        @usableFromInline var hits = 0
        @usableFromInline var misses = 0

        mutating func makeRoom(capacity: Int, isStale: (Value) -> Bool) {
            guard entries.count >= capacity else { return }
            entries = entries.filter { !isStale($0.value) }
            if entries.count >= capacity { entries.remove(at: entries.startIndex) }
        }
    }

    @usableFromInline
    final class Shard: Sendable {
        @usableFromInline let state = Mutex(State())
    }

    @usableFromInline let shards: [Shard]
    private let shardCapacity: Int

    init(capacity: Int, shardCount: Int = 16) {
        shards = (0..<shardCount).map { _ in Shard() }
        shardCapacity = max(1, capacity / shardCount)
    }

    @inlinable
    func shard(for key: Key) -> Shard {
        var hasher = Hasher()
        hasher.combine(key)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    /// The value for `key`, without counting the lookup.
    subscript(key: Key) -> Value? {
        shard(for: key).state.withLock { $0.entries[key] }
    }

    /// Looks `key` up and counts the outcome as a hit or a miss (inlinable: on the request path, code
    /// specialized for the key and value types is much faster than the generic code).
    @inlinable
    func lookup(_ key: Key) -> Value? {
        shard(for: key).state.withLock { state in
            let value = state.entries[key]
            if value == nil { state.misses += 1 } else { state.hits += 1 }
            return value
        }
    }

    @usableFromInline
    func insert(_ value: Value, for key: Key, isStale: (Value) -> Bool) {
        shard(for: key).state.withLock { state in
            if state.entries[key] == nil { state.makeRoom(capacity: shardCapacity, isStale: isStale) }
            state.entries[key] = value
        }
    }

    /// Applies `update` to the entry for `key` atomically and stores its result (`nil` removes the entry).
    func update(_ key: Key, isStale: (Value) -> Bool, _ update: (Value?) -> Value?) {
        shard(for: key).state.withLock { state in
            let newValue = update(state.entries[key])
            if newValue != nil, state.entries[key] == nil { state.makeRoom(capacity: shardCapacity, isStale: isStale) }
            state.entries[key] = newValue
        }
    }

    @usableFromInline
    func removeValue(for key: Key) {
        _ = shard(for: key).state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// The lookups counted so far and the entries held now, over all shards.
    var statistics: (hits: Int, misses: Int, entries: Int) {
        var total = (hits: 0, misses: 0, entries: 0)
        for shard in shards {
            shard.state.withLock { state in
                total.hits += state.hits
                total.misses += state.misses
                total.entries += state.entries.count
            }
        }
        return total
    }
}
