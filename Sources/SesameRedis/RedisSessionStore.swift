import Foundation
import Sesame

/// A `SessionStore` in Redis, shared by every server process that uses the same Redis.
///
/// Each session is a hash `{prefix}s:{key}` (fields `v` value, `g` group, `e` expiry in Unix milliseconds)
/// that Redis expires at the session's expiry. A session is created once and then only updated while it exists,
/// so a deleted one is never recreated. Each group is a set `{prefix}g:{group}` of session keys that
/// expires with its longest-lived member. Writes run as Lua scripts, so group moves and ``deleteGroup(_:)``
/// are atomic; ``get(_:)`` is one `HMGET`. The scripts derive group keys from stored data, so the store
/// needs a standalone Redis (or one where all its keys live in one slot), not a Redis Cluster.
public struct RedisSessionStore: SessionStore {
    private let client: RedisClient
    private let sessionPrefix: String
    private let groupPrefix: String
    private let now: @Sendable () -> Date

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - client: The Redis client (it may be shared with other stores).
    ///   - keyPrefix: Put before every key the store uses (default `sesame:`).
    ///   - now: The clock, used to skip records that are already expired.
    public init(client: RedisClient, keyPrefix: String = "sesame:", now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        sessionPrefix = keyPrefix + "s:"
        groupPrefix = keyPrefix + "g:"
        self.now = now
    }

    /// The record under `key`, or `nil` when there is none or it has expired: one `HMGET`.
    ///
    /// - Parameter key: The store key (the hex SHA-256 of the session secret).
    /// - Returns: The unexpired record, or `nil`.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func get(_ key: String) async throws -> SessionRecord? {
        let reply = try await client.send(RedisCommand("HMGET", sessionPrefix + key, "v", "g", "e"))
        guard case .array(let fields) = reply, fields.count == 3 else {
            throw SessionStoreError.invalidResponse("HMGET answered \(reply)")
        }
        guard let value = fields[0].bytes else { return nil }
        guard let expiry = fields[2].integer else {
            throw SessionStoreError.invalidResponse("session \(key.prefix(8))… has no expiry")
        }
        guard expiry > Self.milliseconds(now()) else { return nil }
        return SessionRecord(
            key: key, group: fields[1].string, value: value,
            expiresAt: Date(timeIntervalSince1970: Double(expiry) / 1000))
    }

    /// Stores a new session's record, expiring it at its `SessionRecord.expiresAt` and adding it to its
    /// group (one script, atomic); an already expired record is not stored.
    ///
    /// - Parameter record: The record.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly, or when a live
    ///   record has the key already.
    public func create(_ record: SessionRecord) async throws {
        let reply = try await write(record, mode: "create")
        guard reply != .integer(-1) else { throw SessionStoreError.keyInUse }
    }

    /// Replaces a live record, moving it between groups as needed (one script, atomic). A record deleted,
    /// terminated with its group or expired meanwhile is not recreated.
    ///
    /// - Parameter record: The record's new state.
    /// - Returns: `false` when no live record has its key (nothing was written).
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func update(_ record: SessionRecord) async throws -> Bool {
        try await write(record, mode: "update") != .integer(-1)
    }

    /// Replaces the record under its key only if it is live and holds `expectedValue`, in one script.
    ///
    /// - Parameters:
    ///   - record: The record's new state.
    ///   - expectedValue: The value the live record must hold.
    /// - Returns: `false` when no live record has its key and that value (nothing was written).
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func replace(_ record: SessionRecord, expectedValue: [UInt8]) async throws -> Bool {
        try await write(record, mode: "replace", expectedValue: expectedValue) != .integer(-1)
    }

    private func write(_ record: SessionRecord, mode: String, expectedValue: [UInt8] = []) async throws -> RESPValue {
        try await client.evaluate(
            Self.writeScript, keys: [sessionPrefix + record.key],
            arguments: [
                Array(record.key.utf8), record.value, Array((record.group == nil ? "0" : "1").utf8),
                Array((record.group ?? "").utf8), Array(String(Self.milliseconds(record.expiresAt)).utf8),
                Array(String(Self.milliseconds(now())).utf8), Array(groupPrefix.utf8), Array(mode.utf8), expectedValue,
            ])
    }

    /// Removes the record under `key` and its group membership; nothing happens when there is none.
    ///
    /// - Parameter key: The store key.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func delete(_ key: String) async throws {
        _ = try await client.evaluate(Self.deleteScript, keys: [sessionPrefix + key], arguments: [key, groupPrefix])
    }

    /// Removes every record of a group at once, atomically ("sign out everywhere").
    ///
    /// - Parameter group: The group, usually a subject ID.
    /// - Returns: How many unexpired records were removed; of concurrent calls, each record counts in one.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func deleteGroup(_ group: String) async throws -> Int {
        let reply = try await client.evaluate(
            Self.deleteGroupScript, keys: [groupPrefix + group],
            arguments: [sessionPrefix, group, String(Self.milliseconds(now()))])
        guard case .integer(let removed) = reply else {
            throw SessionStoreError.invalidResponse("deleting a group answered \(reply)")
        }
        return Int(removed)
    }

    /// The unexpired records of a group, in no particular order; members that expired are dropped from the
    /// group on the way.
    ///
    /// - Parameter group: The group.
    /// - Returns: The group's live records.
    /// - Throws: `SessionStoreError` when Redis cannot be reached or answers unexpectedly.
    public func listGroup(_ group: String) async throws -> [SessionRecord] {
        let reply = try await client.evaluate(
            Self.listGroupScript, keys: [groupPrefix + group],
            arguments: [sessionPrefix, group, String(Self.milliseconds(now()))])
        guard case .array(let items) = reply, items.count % 3 == 0 else {
            throw SessionStoreError.invalidResponse("listing a group answered \(reply)")
        }
        return try stride(from: 0, to: items.count, by: 3).map { index in
            guard let key = items[index].string, let value = items[index + 1].bytes,
                let expiry = items[index + 2].integer
            else { throw SessionStoreError.invalidResponse("listing a group answered a malformed member") }
            return SessionRecord(
                key: key, group: group, value: value, expiresAt: Date(timeIntervalSince1970: Double(expiry) / 1000))
        }
    }

    /// A moment as whole Unix milliseconds.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// Writes a session. `create` refuses (answers -1) when a live record has the key; `update` refuses when
    /// none has (a deleted or terminated session stays gone); `replace` also when its value is not the expected one. Then: leaves the old group if it changes, joins the
    /// new one and extends the group's expiry to the session's. An already expired record is removed instead.
    ///
    /// KEYS: session key. ARGV: bare key, value, has group ("1"/"0"), group, expiry ms, now ms, group prefix,
    /// mode (`create`, `update` or `replace`), the expected value (`replace`).
    static let writeScript = RedisScript("""
        local key, member, hasGroup, group = KEYS[1], ARGV[1], ARGV[3] == '1', ARGV[4]
        local expiresAt, now, groupPrefix, mode = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8]
        local fields = redis.call('HMGET', key, 'g', 'e')
        local old, oldExpiry = fields[1], tonumber(fields[2])
        local live = oldExpiry ~= nil and oldExpiry > now
        if mode == 'create' and live then return -1 end
        if mode == 'update' and not live then return -1 end
        if mode == 'replace' and (not live or redis.call('HGET', key, 'v') ~= ARGV[9]) then return -1 end
        if old and (not hasGroup or old ~= group) then
          redis.call('SREM', groupPrefix .. old, member)
        end
        redis.call('DEL', key)
        if expiresAt <= now then return 0 end
        if hasGroup then
          redis.call('HSET', key, 'v', ARGV[2], 'e', ARGV[5], 'g', group)
          local groupKey = groupPrefix .. group
          redis.call('SADD', groupKey, member)
          local ttl = redis.call('PTTL', groupKey)
          if ttl < 0 or now + ttl < expiresAt then redis.call('PEXPIREAT', groupKey, ARGV[5]) end
        else
          redis.call('HSET', key, 'v', ARGV[2], 'e', ARGV[5])
        end
        redis.call('PEXPIREAT', key, ARGV[5])
        return 1
        """)

    /// Removes a session and its group membership.
    ///
    /// KEYS: session key. ARGV: bare key, group prefix.
    static let deleteScript = RedisScript("""
        local old = redis.call('HGET', KEYS[1], 'g')
        if old then redis.call('SREM', ARGV[2] .. old, ARGV[1]) end
        return redis.call('DEL', KEYS[1])
        """)

    /// Removes a group and every session still in it; answers how many of them were unexpired.
    ///
    /// KEYS: group key. ARGV: session prefix, group, now ms.
    static let deleteGroupScript = RedisScript("""
        local removed, now = 0, tonumber(ARGV[3])
        for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local key = ARGV[1] .. member
          local fields = redis.call('HMGET', key, 'g', 'e')
          if fields[1] == ARGV[2] then
            local expiresAt = tonumber(fields[2])
            if expiresAt and expiresAt > now then removed = removed + 1 end
            redis.call('DEL', key)
          end
        end
        redis.call('DEL', KEYS[1])
        return removed
        """)

    /// Answers a group's unexpired sessions as flat (key, value, expiry ms) triples and drops members that
    /// expired or left.
    ///
    /// KEYS: group key. ARGV: session prefix, group, now ms.
    static let listGroupScript = RedisScript("""
        local out, now = {}, tonumber(ARGV[3])
        for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local fields = redis.call('HMGET', ARGV[1] .. member, 'v', 'g', 'e')
          local expiresAt = tonumber(fields[3])
          if fields[1] and fields[2] == ARGV[2] and expiresAt and expiresAt > now then
            out[#out + 1] = member
            out[#out + 1] = fields[1]
            out[#out + 1] = fields[3]
          else
            redis.call('SREM', KEYS[1], member)
          end
        end
        return out
        """)
}
