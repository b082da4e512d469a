/// Something made from a key set (a derived key, MAC states, a sealer) that follows the set's keys: made once for a
/// fixed set, and for a ring's set again whenever the ring's keys were replaced (once per thread, without a shared
/// lock on the way).
struct KeyDerived<Value: Sendable>: Sendable {
    private let keys: KeySet
    private let fixed: Value?
    private let memo: ThreadShardedMemo<Int, Value>?
    private let make: @Sendable (KeySet) -> Value

    /// - Parameters:
    ///   - keys: The set it is made from.
    ///   - make: Makes it from the set's keys as they are when it is called.
    init(from keys: KeySet, _ make: @escaping @Sendable (KeySet) -> Value) {
        self.keys = keys
        self.make = make
        if keys.isLive {
            fixed = nil
            memo = ThreadShardedMemo(limitPerShard: 1)
        } else {
            fixed = make(keys)
            memo = nil
        }
    }

    /// A value that never changes (made from raw keys, not a key set).
    init(fixed value: Value) {
        keys = try! KeySet(verificationKeys: [])
        make = { _ in value }
        fixed = value
        memo = nil
    }

    /// The generation of the keys it follows (0 for a fixed set or a fixed value).
    var generation: Int { fixed == nil ? keys.generation : 0 }

    /// The value for the set's keys now.
    var value: Value {
        if let fixed { return fixed }
        let keys = self.keys, make = self.make
        // Read after the generation, the ring's keys are at least that new: a value filed under a generation never
        // comes from older keys. `make` gets the ring's set, whose derivations share the ring's fallback secret.
        return memo!.value(for: keys.generation) { make(keys) }
    }
}
