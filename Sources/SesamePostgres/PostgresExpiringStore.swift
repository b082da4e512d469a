import Sesame

/// A PostgreSQL store whose rows expire and must be deleted from time to time.
///
/// Expired rows are never returned, so deleting them only reclaims space; a `StoreCleanupService` (or a
/// ``PostgresCleanupService``) calls them periodically.
public protocol PostgresExpiringStore: ExpiringStore {
    /// Deletes the store's expired rows.
    ///
    /// - Parameter batchSize: The most rows one statement deletes.
    /// - Returns: How many rows were deleted.
    /// - Throws: `SessionStoreError` when the server cannot be reached.
    @discardableResult
    func deleteExpired(batchSize: Int) async throws -> Int
}

extension PostgresExpiringStore {
    /// Deletes the expired rows, 10,000 per statement.
    ///
    /// - Returns: How many rows were deleted.
    @discardableResult
    public func deleteExpiredRecords() async throws -> Int {
        try await deleteExpired(batchSize: 10_000)
    }
}
