import Foundation

/// One server-side session as a store keeps it: an opaque value under the hash of the session's secret.
///
/// Stores never see a session secret or a cookie: ``key`` is the SHA-256 of the secret, so a leaked store
/// yields no usable cookie.
public struct SessionRecord: Sendable, Equatable {
    /// The store key: the lowercase hex SHA-256 of the session secret (64 characters).
    public var key: String
    /// The group the session belongs to (usually the signed-in user's subject ID), for "sign out everywhere";
    /// `nil` for anonymous sessions.
    public var group: String?
    /// The serialized session, opaque to the store.
    public var value: [UInt8]
    /// When the store must forget the session (its idle or absolute expiry, whichever comes first).
    public var expiresAt: Date

    /// Creates a record.
    public init(key: String, group: String?, value: [UInt8], expiresAt: Date) {
        self.key = key
        self.group = group
        self.value = value
        self.expiresAt = expiresAt
    }
}

/// Where server-side sessions live: memory, SQLite, PostgreSQL or Redis.
///
/// Every operation is atomic on its own. Expired records are never returned, whether or not the store has
/// removed them yet. A store that cannot be reached throws (``SessionStoreError/unavailable(_:)`` or its own
/// error), and Sesame then fails closed with 503 for requests that need the session.
public protocol SessionStore: Sendable {
    /// The record under `key`, or `nil` when there is none or it has expired.
    func get(_ key: String) async throws -> SessionRecord?

    /// Inserts or replaces a record, expiring it at ``SessionRecord/expiresAt`` and keeping its group's
    /// membership (a record that moves to another group, or to none, leaves its old group).
    func set(_ record: SessionRecord) async throws

    /// Removes the record under `key` (and its group membership); nothing happens when there is none.
    func delete(_ key: String) async throws

    /// Removes every record of a group at once ("sign out everywhere").
    ///
    /// - Returns: How many unexpired records were removed.
    func deleteGroup(_ group: String) async throws -> Int

    /// The unexpired records of a group, in no particular order.
    func listGroup(_ group: String) async throws -> [SessionRecord]
}

/// Why a store could not answer.
public enum SessionStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The store's server cannot be reached or did not answer in time.
    case unavailable(String)
    /// The store answered something it should not have (a corrupt row, a protocol error).
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .unavailable(let detail): "session store unavailable: \(detail)"
        case .invalidResponse(let detail): "session store answered unexpectedly: \(detail)"
        }
    }
}
