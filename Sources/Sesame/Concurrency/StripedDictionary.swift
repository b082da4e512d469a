import Synchronization

/// A bounded dictionary split into independently locked shards.
///
/// Readers and writers of different shards never wait for each other, so a lookup on the request path
/// scales across cores without an actor or one global lock. Each shard holds at most `capacity / shards`
/// entries; when a shard is full, `insert` first drops entries its `isStale` predicate rejects, then evicts
/// an arbitrary entry.
final class StripedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private final class Shard: Sendable {
        let storage = Mutex<[Key: Value]>([:])
    }

    private let shards: [Shard]
    private let shardCapacity: Int

    init(capacity: Int, shardCount: Int = 16) {
        shards = (0..<shardCount).map { _ in Shard() }
        shardCapacity = max(1, capacity / shardCount)
    }

    private func shard(for key: Key) -> Shard {
        var hasher = Hasher()
        hasher.combine(key)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    subscript(key: Key) -> Value? {
        shard(for: key).storage.withLock { $0[key] }
    }

    func insert(_ value: Value, for key: Key, isStale: (Value) -> Bool) {
        shard(for: key).storage.withLock { storage in
            if storage[key] == nil, storage.count >= shardCapacity {
                storage = storage.filter { !isStale($0.value) }
                if storage.count >= shardCapacity { storage.remove(at: storage.startIndex) }
            }
            storage[key] = value
        }
    }

    /// Applies `update` to the entry for `key` atomically and stores its result (`nil` removes the entry).
    func update(_ key: Key, isStale: (Value) -> Bool, _ update: (Value?) -> Value?) {
        shard(for: key).storage.withLock { storage in
            let newValue = update(storage[key])
            if newValue != nil, storage[key] == nil, storage.count >= shardCapacity {
                storage = storage.filter { !isStale($0.value) }
                if storage.count >= shardCapacity { storage.remove(at: storage.startIndex) }
            }
            storage[key] = newValue
        }
    }

    func removeValue(for key: Key) {
        _ = shard(for: key).storage.withLock { $0.removeValue(forKey: key) }
    }
}
