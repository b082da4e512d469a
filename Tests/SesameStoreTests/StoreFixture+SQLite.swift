import Foundation
import Sesame
import SesameSQLite
import Testing

extension StoreFixture {
    /// A fresh SQLite file in a temporary directory, removed by `close`.
    static func sqlite() async throws -> StoreFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-sqlite-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storage = SQLiteStorage(path: directory.appendingPathComponent("sessions.sqlite").path)
        return StoreFixture(
            sessions: SQLiteSessionStore(storage: storage), replay: SQLiteReplayStore(storage: storage),
            limiter: { capacity, interval in SQLiteRateLimiter(storage: storage, capacity: capacity, refillInterval: interval) },
            revocation: SQLiteRevocationStore(storage: storage),
            close: {
                try await storage.close()
                try? FileManager.default.removeItem(at: directory)
            })
    }
}
