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
///
/// There is no unconditional write: a session is written once by ``create(_:)`` and afterwards only by
/// ``update(_:)``, which changes a record that still exists and never brings back one that was deleted. So a
/// request that began before a sign-out (or "sign out everywhere") and saves its session data afterwards cannot
/// recreate the session it belonged to.
public protocol SessionStore: Sendable {
    /// The record under `key`, or `nil` when there is none or it has expired.
    func get(_ key: String) async throws -> SessionRecord?

    /// Stores a new session's record, expiring it at ``SessionRecord/expiresAt`` and adding it to its group.
    ///
    /// Keys are the hashes of fresh 256-bit secrets, so an existing live record under the same key means a bug:
    /// the store throws rather than overwrite it. An already expired record is not stored.
    func create(_ record: SessionRecord) async throws

    /// Replaces the record under ``SessionRecord/key`` only if it exists and has not expired, atomically, moving
    /// it between groups as needed (a record that moves to another group, or to none, leaves its old group).
    ///
    /// - Returns: `false`, having written nothing, when there is no such live record (it was deleted,
    ///   terminated with its group, or expired).
    func update(_ record: SessionRecord) async throws -> Bool

    /// Replaces the record under ``SessionRecord/key`` only if it is live and its value is exactly `expectedValue`,
    /// atomically (compare-and-swap): of concurrent replacements of the same value, one succeeds. Refresh-token
    /// rotation (``NativeAppSessions``) relies on it.
    ///
    /// - Parameters:
    ///   - record: The record's new state.
    ///   - expectedValue: The value the live record must hold.
    /// A `record` whose expiry has passed removes the live one: an atomic delete-if-unchanged.
    ///
    /// - Returns: `false`, having written nothing, when there is no such live record or its value differs.
    func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool

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

    /// ``SessionStore/create(_:)`` found a live record under the new record's key.
    public static let keyInUse = SessionStoreError.invalidResponse("a session with this key exists already")

    public var description: String {
        switch self {
        case .unavailable(let detail): "session store unavailable: \(detail)"
        case .invalidResponse(let detail): "session store answered unexpectedly: \(detail)"
        }
    }
}
