import Synchronization

/// A bounded dictionary split into independently locked shards.
///
/// Readers and writers of different shards never wait for each other, so a lookup on the request path
/// scales across cores without an actor or one global lock. Each shard holds at most `capacity / shards`
/// entries. When a shard is full, adding a key first drops the entries its `isStale` predicate rejects (at most
/// once a second or once per quarter of the shard's capacity in additions); if the shard is still full, what
/// happens depends on ``FullPolicy``: a cache evicts an arbitrary entry, a store of security state refuses the new
/// key (and the caller fails closed), so nothing live is ever forgotten.
@usableFromInline
final class StripedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// What a full shard does with a new key once nothing stale is left to drop.
    @usableFromInline
    enum FullPolicy: Sendable {
        /// Evict an arbitrary entry (a cache: the entry is recomputed on the next miss).
        case evictAny
        /// Keep every entry and refuse the new key (security state: revocations, used IDs, rate limits).
        case refuse
    }

    @usableFromInline
    struct State: Sendable {
        @usableFromInline var entries: [Key: Value] = [:]
        /// Lookup outcomes, counted under the lookup's own lock, so counting adds no contention.
        @usableFromInline var hits = 0
        @usableFromInline var misses = 0
        /// Refused (or, for a cache, evicted) additions since the last sweep for stale entries, and when that sweep
        /// was: a full shard sweeps again only after a quarter of its capacity in additions or a second, so that
        /// a flood costs O(1) per request and entries that expire are still found within a second.
        var additionsSinceSweep = 0
        var lastSweep = -Double.infinity

        /// Makes room for one more key; `false` when the shard is full of live entries and may not evict.
        mutating func makeRoom(capacity: Int, policy: FullPolicy, now: Double, isStale: (Value) -> Bool) -> Bool {
            guard entries.count >= capacity else { return true }
            let sweepIsDue = additionsSinceSweep >= max(1, capacity / 4) || !(now - lastSweep < 1)
            if sweepIsDue {
                entries = entries.filter { !isStale($0.value) }
                lastSweep = now
                additionsSinceSweep = 0
                if entries.count < capacity { return true }
            }
            additionsSinceSweep += 1
            switch policy {
            case .evictAny:
                entries.remove(at: entries.startIndex)
                return true
            case .refuse:
                return false
            }
        }
    }

    @usableFromInline
    final class Shard: Sendable {
        @usableFromInline let state = Mutex(State())
    }

    @usableFromInline let shards: [Shard]
    private let shardCapacity: Int
    private let policy: FullPolicy

    /// Creates an empty dictionary.
    ///
    /// - Parameters:
    ///   - capacity: The most entries held (split evenly over the shards).
    ///   - shardCount: How many independently locked shards.
    ///   - whenFull: What a full shard does with a new key (default: evict, as a cache does).
    init(capacity: Int, shardCount: Int = 16, whenFull: FullPolicy = .evictAny) {
        shards = (0..<shardCount).map { _ in Shard() }
        shardCapacity = max(1, capacity / shardCount)
        policy = whenFull
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
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - accepts: Whether the entry found serves this lookup; an entry it rejects is a miss.
    @inlinable
    func lookup(_ key: Key, where accepts: (Value) -> Bool = { _ in true }) -> Value? {
        shard(for: key).state.withLock { state in
            let value = state.entries[key].flatMap { accepts($0) ? $0 : nil }
            if value == nil { state.misses += 1 } else { state.hits += 1 }
            return value
        }
    }

    /// Stores `value` under `key`.
    ///
    /// - Parameters:
    ///   - now: The time, in seconds, for pacing sweeps of a full shard (callers without a clock pass 0: sweeps are
    ///     then paced by count alone).
    ///   - isStale: Whether an entry may be dropped to make room.
    /// - Returns: `false` when the key is new, its shard is full of live entries and the policy is
    ///   ``FullPolicy/refuse`` (nothing was stored).
    @usableFromInline @discardableResult
    func insert(_ value: Value, for key: Key, now: Double = 0, isStale: (Value) -> Bool) -> Bool {
        shard(for: key).state.withLock { state in
            if state.entries[key] == nil, !state.makeRoom(capacity: shardCapacity, policy: policy, now: now, isStale: isStale) { return false }
            state.entries[key] = value
            return true
        }
    }

    /// Applies `update` to the entry for `key` atomically and stores its result (`nil` removes the entry).
    ///
    /// - Returns: `false` when the key is new and its shard has no room (see ``insert(_:for:isStale:)``); then
    ///   `update` was not called.
    @discardableResult
    func update(_ key: Key, now: Double = 0, isStale: (Value) -> Bool, _ update: (Value?) -> Value?) -> Bool {
        shard(for: key).state.withLock { state in
            let existing = state.entries[key]
            if existing == nil, !state.makeRoom(capacity: shardCapacity, policy: policy, now: now, isStale: isStale) { return false }
            state.entries[key] = update(existing)
            return true
        }
    }

    @usableFromInline
    func removeValue(for key: Key) {
        _ = shard(for: key).state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// Drops every entry `isStale` rejects, in every shard.
    ///
    /// - Returns: Whether every shard has room for at least one more key now.
    @discardableResult
    func removeStale(_ isStale: (Value) -> Bool) -> Bool {
        var roomy = true
        for shard in shards {
            shard.state.withLock { state in
                state.entries = state.entries.filter { !isStale($0.value) }
                state.additionsSinceSweep = 0
                if state.entries.count >= shardCapacity { roomy = false }
            }
        }
        return roomy
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
