/// A store whose records expire and must be deleted from time to time to reclaim space.
///
/// Expired records are never returned, so deleting them changes no answer; ``StoreCleanupService`` calls
/// ``deleteExpiredRecords()`` of each of its stores periodically. The SQLite and PostgreSQL stores conform; Redis
/// expires its keys itself and the memory stores sweep as they write.
public protocol ExpiringStore: Sendable {
    /// Deletes the store's expired records.
    ///
    /// - Returns: How many records were deleted.
    /// - Throws: ``SessionStoreError`` when the store cannot be reached.
    @discardableResult
    func deleteExpiredRecords() async throws -> Int
}
