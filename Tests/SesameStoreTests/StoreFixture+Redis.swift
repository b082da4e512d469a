import Foundation
import Sesame
import SesameRedis
import Testing

extension StoreFixture {
    /// The Redis stores on the server at `SESAME_TEST_REDIS_URL`, under a key prefix of their own; closing
    /// deletes the prefix's keys and shuts the client down.
    static func redis() async throws -> StoreFixture {
        let url = try environmentURL("SESAME_TEST_REDIS_URL")
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        let prefix = "sesame-test:\(UUID().uuidString):"
        return StoreFixture(
            sessions: RedisSessionStore(client: client, keyPrefix: prefix),
            replay: RedisReplayStore(client: client, keyPrefix: prefix),
            limiter: { capacity, interval in
                // Each limiter gets its own key space: buckets of different settings must not mix.
                RedisRateLimiter(
                    client: client, capacity: capacity, refillInterval: interval,
                    keyPrefix: prefix + UUID().uuidString + ":")
            },
            revocation: RedisRevocationStore(client: client, keyPrefix: prefix),
            close: {
                do {
                    try await deleteKeys(prefixedWith: prefix, using: client)
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
            })
    }

    /// Deletes every key that starts with `prefix` (which holds no glob characters), with `SCAN` and `DEL`.
    static func deleteKeys(prefixedWith prefix: String, using client: RedisClient) async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send(RedisCommand("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"))
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].string,
                case .array(let keys) = parts[1]
            else { throw SessionStoreError.invalidResponse("SCAN answered \(reply)") }
            let names = keys.compactMap(\.string)
            if !names.isEmpty { _ = try await client.send(RedisCommand("DEL", arguments: names)) }
            cursor = next
        } while cursor != "0"
    }
}
