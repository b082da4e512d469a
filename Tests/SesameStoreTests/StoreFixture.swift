import Foundation
import Sesame
import Testing

/// The stores the behavioural suite runs against. Redis and PostgreSQL are real servers started by
/// `scripts/test` (which exports their URLs); SQLite is a file in a temporary directory.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgres, redis

    var testDescription: String { rawValue }
}

/// One store's implementations of the storage protocols, connected and empty of test data.
struct StoreFixture: Sendable {
    let sessions: any SessionStore
    let replay: any ReplayStore
    /// A rate limiter with the given burst and refill interval (seconds per token), in a fresh key space.
    let limiter: @Sendable (_ capacity: Int, _ refillInterval: Double) async throws -> any RateLimiter
    let revocation: any RevocationStore
    /// Closes connections and removes the fixture's data.
    let close: @Sendable () async throws -> Void

    static func make(_ kind: StoreKind) async throws -> StoreFixture {
        switch kind {
        case .memory: memory()
        case .sqlite: try await sqlite()
        case .postgres: try await postgres()
        case .redis: try await redis()
        }
    }

    static func memory() -> StoreFixture {
        StoreFixture(
            sessions: MemorySessionStore(), replay: MemoryReplayStore(),
            limiter: { capacity, interval in MemoryRateLimiter(capacity: capacity, refillInterval: interval) },
            revocation: MemoryRevocationStore(), close: {})
    }

    /// Runs `body` with a fresh fixture and closes it afterwards, even when `body` throws.
    static func with(_ kind: StoreKind, _ body: (StoreFixture) async throws -> Void) async throws {
        let fixture = try await make(kind)
        do {
            try await body(fixture)
        } catch {
            try? await fixture.close()
            throw error
        }
        try await fixture.close()
    }

    /// A URL from the environment that `scripts/test` sets, or a recorded failure naming the missing variable.
    static func environmentURL(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            Issue.record("\(name) is not set: run the tests with scripts/test, which starts the store servers")
            throw CancellationError()
        }
        return value
    }
}
