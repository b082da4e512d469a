/// Something made from a key set (a derived key, MAC states, a sealer) that follows the set's keys: made once for a
/// fixed set, and for a ring's set again whenever the ring's keys were replaced (once per thread, without a shared
/// lock on the way).
struct KeyDerived<Value: Sendable>: Sendable {
    private enum Source: Sendable {
        /// Made once: from a fixed set, or from raw keys.
        case fixed(Value)
        /// Made from a ring's set, remembered per thread under the keys' generation.
        case ring(KeySet, ThreadShardedMemo<Int, Value>, @Sendable (KeySet) -> Value)
    }

    private let source: Source

    /// - Parameters:
    ///   - keys: The set it is made from.
    ///   - make: Makes it from the set's keys as they are when it is called.
    init(from keys: KeySet, _ make: @escaping @Sendable (KeySet) -> Value) {
        source = keys.isLive ? .ring(keys, ThreadShardedMemo(limitPerShard: 1), make) : .fixed(make(keys))
    }

    /// A value that never changes (made from raw keys, not a key set).
    init(fixed value: Value) {
        source = .fixed(value)
    }

    /// The generation of the keys it follows (0 for a fixed set or a fixed value).
    var generation: Int {
        switch source {
        case .fixed: 0
        case .ring(let keys, _, _): keys.generation
        }
    }

    /// The value for the set's keys now.
    var value: Value {
        switch source {
        case .fixed(let value):
            return value
        case .ring(let keys, let memo, let make):
            // Read after the generation, the ring's keys are at least that new: a value filed under a generation
            // never comes from older keys. `make` gets the ring's set, whose derivations share the ring's fallback
            // secret.
            return memo.value(for: keys.generation) { make(keys) }
        }
    }
}
