import Logging
import Synchronization

/// Remembers whether an in-memory store of security state is refusing new entries because it is full of live
/// ones, and logs that once per episode (not once per refused request).
final class CapacityAlarm: Sendable {
    private let refusing = Atomic<Bool>(false)
    /// When the store last swept every shard to find out whether it has room again (seconds since 1970).
    private let lastSweep = Atomic<Int64>(0)
    private let store: String
    private let logger: Logger

    init(store: String, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Whether a refusal happened and room was not found since.
    var isRefusing: Bool { refusing.load(ordering: .acquiring) }

    /// Records a refusal; the first of an episode is logged.
    func refused() {
        if !refusing.exchange(true, ordering: .acquiringAndReleasing) {
            logger.error("\(store) is full of live entries and refuses new ones (failing closed); raise its capacity or use a shared store")
        }
    }

    /// Records that the store has room again.
    func recovered() {
        if refusing.exchange(false, ordering: .acquiringAndReleasing) {
            logger.notice("\(store) has room again")
        }
    }

    /// Whether a sweep for room is due (at most one per second while refusing).
    func sweepIsDue(now: Double) -> Bool {
        let second = Int64(now)
        let last = lastSweep.load(ordering: .relaxed)
        guard second > last else { return false }
        return lastSweep.compareExchange(expected: last, desired: second, ordering: .relaxed).exchanged
    }
}
