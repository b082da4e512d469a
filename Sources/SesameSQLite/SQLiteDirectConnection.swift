import NIOCore
import SQLiteNIO
// sqlite-nio's vendored SQLite (not one of its products, but built with it): the same library copy as
// SQLiteNIO's connections, so connections of both kinds to one file share SQLite's per-process file locks.
import VaporCSQLite

/// A SQLite connection that runs statements on the calling thread, with its prepared statements cached.
///
/// sqlite-nio runs every statement on its thread pool: two thread wake-ups per statement, which cost more than a
/// short statement itself when the server is not busy (a sign-in's one statement took about 300 µs that way, 60 µs
/// in a loop). The account store's statements are short and indexed, so it runs them here, one caller at a time
/// (the store serializes callers with an async lock); a statement that waits for another writer waits at most
/// the busy timeout.
///
/// Not thread-safe: one caller at a time.
final class SQLiteDirectConnection: @unchecked Sendable {
    /// A failed SQLite call: its result code (extended) and message.
    struct Failure: Error, CustomStringConvertible, Sendable {
        let code: Int32
        let message: String

        /// Whether a uniqueness or primary-key constraint refused the write.
        var isUniquenessConflict: Bool { code & 0xFF == SQLITE_CONSTRAINT }

        var description: String { "SQLite error \(code): \(message)" }
    }

    /// One result row: values by column name.
    struct Row: Sendable {
        let names: [String]
        let values: [SQLiteData]

        /// The value of a column, or `nil` when the row has no such column.
        func column(_ name: String) -> SQLiteData? {
            names.firstIndex(of: name).map { values[$0] }
        }
    }

    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Opens (creating if missing) a database file.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - busyTimeoutMilliseconds: How long a statement waits for another connection's write lock.
    /// - Throws: ``Failure`` when the file cannot be opened.
    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        var handle: OpaquePointer?
        let opened = sqlite_nio_sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard opened == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite_nio_sqlite3_close(handle)
            throw Failure(code: opened, message: message)
        }
        self.handle = handle
        sqlite_nio_sqlite3_extended_result_codes(handle, 1)
        sqlite_nio_sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        sqlite_nio_sqlite3_close_v2(handle)
    }

    /// Runs one statement and collects its rows.
    ///
    /// - Parameters:
    ///   - sql: One statement, with `?N` parameters.
    ///   - binds: The parameters' values, in order.
    /// - Returns: The rows.
    /// - Throws: ``Failure``.
    @discardableResult
    func rows(_ sql: String, _ binds: [SQLiteData] = []) throws -> [Row] {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            try check(bind(value, at: Int32(index + 1), in: statement))
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        let names = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
        var rows: [Row] = []
        while true {
            let stepped = sqlite_nio_sqlite3_step(statement)
            if stepped == SQLITE_DONE { return rows }
            guard stepped == SQLITE_ROW else { throw failure(stepped) }
            rows.append(Row(names: names, values: (0..<count).map { value(at: $0, in: statement) }))
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        try check(sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &statement, nil))
        guard let statement else { throw Failure(code: SQLITE_MISUSE, message: "an empty statement") }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteData, at index: Int32, in statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let number): sqlite_nio_sqlite3_bind_int64(statement, index, Int64(number))
        case .float(let number): sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .text(let text): sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let buffer):
            buffer.withUnsafeReadableBytes { bytes in
                sqlite_nio_sqlite3_bind_blob64(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(bytes.count), Self.transient)
            }
        case .null: sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private func value(at column: Int32, in statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, column) else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func check(_ result: Int32) throws {
        guard result == SQLITE_OK else { throw failure(result) }
    }

    private func failure(_ result: Int32) -> Failure {
        Failure(code: sqlite_nio_sqlite3_extended_errcode(handle), message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
    }
}
