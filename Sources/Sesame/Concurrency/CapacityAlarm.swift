import Logging
import Synchronization

/// Remembers whether an in-memory store of security state is refusing new entries because it is full of live
/// ones, and says so in the log: once when it starts, then at most once a minute while it goes on (not once per
/// refused request).
final class CapacityAlarm: Sendable {
    private let refusing = Atomic<Bool>(false)
    /// When the store last swept every shard to find out whether it has room again (whole seconds since 1970).
    private let lastSweep = Atomic<Int64>(0)
    /// When a refusal was last logged (whole seconds since 1970).
    private let lastReport = Atomic<Int64>(Int64.min)
    private let store: String
    private let logger: Logger

    init(store: String, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Whether a refusal happened and no sweep has found room since.
    var isRefusing: Bool { refusing.load(ordering: .acquiring) }

    /// Records a refusal, logging it unless one was logged in the last minute.
    func refused(now: Double) {
        refusing.store(true, ordering: .releasing)
        let second = Int64(now), last = lastReport.load(ordering: .relaxed)
        guard last == Int64.min || second - last >= 60 else { return }
        guard lastReport.compareExchange(expected: last, desired: second, ordering: .relaxed).exchanged else { return }
        logger.error("\(store) is full of live entries and refuses new ones (failing closed); raise its capacity or use a shared store")
    }

    /// Records that a sweep found room again.
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
