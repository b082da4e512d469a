import Logging
import ServiceLifecycle
import UnixSignals

/// Puts freshly loaded keys into a ``KeyRing`` while the app runs: a swift-service-lifecycle `Service`.
///
/// ```swift
/// let ring = KeyRing(try loadKeys())
/// let reload = KeyReloadService(ring: ring) { try loadKeys() }   // every minute, and on SIGHUP
/// let services = ServiceGroup(services: [app, reload], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
///
/// It loads the keys after every ``interval`` and whenever the process receives ``signal``, and replaces the
/// ring's keys when they differ. Rotating is then: write the new key as active with the old one kept for
/// verification, send `SIGHUP` (or wait), and later drop the old key the same way. A load that fails (a file half
/// written, a malformed key, a set that cannot replace the current one) keeps the current keys and is logged as an
/// error: the app never runs without keys, nor with keys it could not check. On graceful shutdown or cancellation
/// the service stops at once.
public struct KeyReloadService: Service {
    /// The ring the keys go to.
    public let ring: KeyRing
    /// The pause between two loads, or `nil` to load only on ``signal``.
    public let interval: Duration?
    /// The signal that makes the service load at once (default `SIGHUP`), or `nil` for none.
    public let signal: UnixSignal?
    private let load: @Sendable () async throws -> KeySet
    private let logger: Logger

    /// Creates a reload service.
    ///
    /// - Parameters:
    ///   - ring: The ring to keep up to date.
    ///   - interval: The pause between two loads (default 60 seconds); `nil` loads only on `signal`.
    ///   - signal: The signal that triggers a load (default `SIGHUP`); `nil` for none. The service traps it while it
    ///     runs, so the signal no longer ends the process.
    ///   - logger: Where replaced keys (notice, with their key IDs) and failed loads (error) are reported.
    ///   - load: Reads the keys from their source, for example `KeySet.load(mode:environment:)` over a mounted file.
    public init(
        ring: KeyRing, interval: Duration? = .seconds(60), signal: UnixSignal? = .sighup, logger: Logger = Logger(label: "sesame.keys"),
        load: @escaping @Sendable () async throws -> KeySet
    ) {
        precondition(interval.map { $0 > .zero } ?? true, "the interval must be positive")
        self.ring = ring
        self.interval = interval
        self.signal = signal
        self.logger = logger
        self.load = load
    }

    /// Loads the keys once and puts them in the ring if they differ from its keys.
    ///
    /// - Returns: Whether the ring's keys were replaced.
    /// - Throws: The loader's error, or ``TokenError/invalidKey`` when the loaded set cannot replace the ring's; the
    ///   ring keeps its keys.
    @discardableResult
    public func reloadOnce() async throws -> Bool {
        let keys = try await load()
        return try ring.replace(with: keys)
    }

    /// Loads after every ``interval`` and on ``signal`` until graceful shutdown or cancellation.
    public func run() async {
        let (triggers, trigger) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let interval = interval, signal = signal
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let interval {
                    group.addTask {
                        while (try? await Task.sleep(for: interval)) != nil { trigger.yield() }
                    }
                }
                if let signal {
                    group.addTask {
                        for await _ in await UnixSignalsSequence(trapping: signal) { trigger.yield() }
                    }
                }
                // An AsyncStream ends when its consumer's task is cancelled.
                for await _ in triggers { await reloadLogging() }
                group.cancelAll()
            }
        }
    }

    private func reloadLogging() async {
        do {
            if try await reloadOnce() {
                let current = ring.current
                logger.notice("Replaced the keys", metadata: [
                    "active": .string(current.activeKey?.keyID ?? "none"),
                    "keys": .array(current.keys.map { .string($0.keyID) }),
                    "generation": "\(ring.generation)",
                ])
            }
        } catch {
            logger.error("Could not load the keys; the current ones stay", metadata: ["error": .string(String(describing: error))])
        }
    }
}
