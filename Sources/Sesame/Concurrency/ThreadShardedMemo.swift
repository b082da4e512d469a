#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A small, bounded memo of a pure function's results, sharded by the calling thread.
///
/// For work whose cost is Swift's runtime rather than our code: decoding an app's `Codable` subject enum looks up
/// generic metadata and witness tables in the runtime's shared caches, whose readers all update one counter, so
/// two cores decoding at once mostly wait for each other. A thread finds its own shard (its own lock, on its own
/// cache line) and, for a key it decoded before, never reaches the runtime. Only results are kept, never failures,
/// and only for inputs that were already verified; a full shard starts over.
final class ThreadShardedMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// One thread's part; padded so that two shards never share a cache line.
    final class Shard: Sendable {
        let entries = Mutex<[Key: Value]>([:])
        private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    }

    private let shards: [Shard]
    private let limitPerShard: Int

    /// Creates a memo.
    ///
    /// - Parameters:
    ///   - shardCount: How many shards (a power of two).
    ///   - limitPerShard: The most entries a shard keeps.
    init(shardCount: Int = 16, limitPerShard: Int = 256) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "the shard count must be a power of two")
        shards = (0..<shardCount).map { _ in Shard() }
        self.limitPerShard = limitPerShard
    }

    /// The value for `key`: the one this thread computed before, or `make()`'s, remembered.
    func value<Failure: Error>(for key: Key, orMake make: () throws(Failure) -> Value) throws(Failure) -> Value {
        let shard = shards[ThreadShardedMemo.currentThreadIndex & (shards.count - 1)]
        if let known = shard.entries.withLock({ $0[key] }) { return known }
        let value = try make()
        let limit = limitPerShard
        shard.entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
        return value
    }

    /// A number for the calling thread (its `pthread_t`, whose low bits are alignment).
    private static var currentThreadIndex: Int {
        let thread = unsafeBitCast(pthread_self(), to: UInt.self)
        return Int(truncatingIfNeeded: (thread >> 12) ^ (thread >> 6))
    }
}
