/// An account store that can page through all its users, for administration (the `sesame users` command).
///
/// Sign-in never needs it; ``MemoryAccountStore``, `SQLiteAccountStore` and `PostgresAccountStore` provide it.
public protocol UserDirectory: Sendable {
    /// Users in ascending order of their IDs (byte order), starting after `cursor`.
    ///
    /// - Parameters:
    ///   - cursor: The last ID of the previous page, or `nil` for the first page.
    ///   - limit: The most users to return (at least 1).
    /// - Returns: At most `limit` users; fewer (or none) at the end.
    func users(after cursor: String?, limit: Int) async throws -> [AuthUser]
}
