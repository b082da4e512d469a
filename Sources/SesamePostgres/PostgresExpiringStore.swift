/// A PostgreSQL store whose rows expire and must be deleted from time to time.
///
/// Expired rows are never returned, so deleting them only reclaims space; a ``PostgresCleanupService`` calls
/// ``deleteExpired(batchSize:)`` of each of its stores periodically.
public protocol PostgresExpiringStore: Sendable {
    /// Deletes the store's expired rows.
    ///
    /// - Parameter batchSize: The most rows one statement deletes.
    /// - Returns: How many rows were deleted.
    /// - Throws: ``Sesame/SessionStoreError`` when the server cannot be reached.
    @discardableResult
    func deleteExpired(batchSize: Int) async throws -> Int
}
