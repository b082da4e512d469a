import Sesame
import Synchronization

/// The sizes of what the demo keeps in its own memory (rate-limit buckets, used IDs, revocations, sessions, caches
/// and the development mailbox), by name, for `GET /dev/memory`: the bounded-memory flood reads them to show that
/// none grows without bound.
public final class DemoMemoryGauges: Sendable {
    private let gauges = Mutex<[(name: String, read: @Sendable () -> Int)]>([])

    /// Creates an empty set of gauges.
    public init() {}

    /// Adds a gauge.
    ///
    /// - Parameters:
    ///   - name: What the count is of (a second gauge of the same name is summed with the first).
    ///   - read: Reads the count now.
    public func register(_ name: String, _ read: @escaping @Sendable () -> Int) {
        gauges.withLock { $0.append((name, read)) }
    }

    /// Every gauge's count now, by name.
    public func snapshot() -> [String: Int] {
        let all = gauges.withLock { $0 }
        return all.reduce(into: [:]) { counts, gauge in counts[gauge.name, default: 0] += gauge.read() }
    }
}
