import Logging
import SQLiteNIO
import Synchronization

/// A SQLite connection opened on first use and set up once (pragmas, schema), shared by every caller; a failed
/// opening is forgotten, so the next call tries again (the directory may appear, the disk may free up).
final class SQLiteLazyConnection: Sendable {
    private let path: String
    private let logger: Logger
    private let setUp: @Sendable (SQLiteConnection) async throws -> Void
    private let opening = Mutex<Task<SQLiteConnection, any Error>?>(nil)

    /// - Parameters:
    ///   - path: The database file.
    ///   - logger: The logger for SQLite.
    ///   - setUp: What runs once on the new connection before anyone uses it.
    init(path: String, logger: Logger, setUp: @escaping @Sendable (SQLiteConnection) async throws -> Void) {
        self.path = path
        self.logger = logger
        self.setUp = setUp
    }

    /// The open connection, opening and setting it up on first use.
    func connection() async throws -> SQLiteConnection {
        let task = opening.withLock { current in
            if let current { return current }
            let path = self.path, logger = self.logger, setUp = self.setUp
            let task = Task {
                let database = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                try await setUp(database)
                return database
            }
            current = task
            return task
        }
        do {
            return try await task.value
        } catch {
            opening.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }

    /// Closes the connection; the next call opens it again.
    func close() async throws {
        let task = opening.withLock { current in
            defer { current = nil }
            return current
        }
        if let database = try? await task?.value { try await database.close() }
    }

    /// Runs one statement on `database` and collects its rows.
    static func rows(_ database: SQLiteConnection, _ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        let collected = Mutex<[SQLiteRow]>([])
        try await database.query(sql, binds) { row in collected.withLock { $0.append(row) } }
        return collected.withLock { $0 }
    }
}
