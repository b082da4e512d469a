import Synchronization

/// A Lua script that Redis runs atomically, sent once with `SCRIPT LOAD` and then called by its SHA-1 with
/// `EVALSHA` (see ``RedisClient/evaluate(_:keys:arguments:)-(_,_,[[UInt8]])``).
public final class RedisScript: Sendable {
    /// The script's Lua source.
    public let source: String
    /// The SHA-1 Redis reported when the script was loaded, once it has been.
    private let loadedHash = Mutex<String?>(nil)

    /// Creates a script; nothing is sent until its first use.
    ///
    /// - Parameter source: The Lua source.
    public init(_ source: String) {
        self.source = source
    }

    /// The SHA-1 to call the script by, once Redis has loaded it.
    var hash: String? {
        loadedHash.withLock { $0 }
    }

    /// Records the SHA-1 Redis reported for the script.
    ///
    /// - Parameter hash: The hex SHA-1 from `SCRIPT LOAD`.
    func remember(hash: String) {
        loadedHash.withLock { $0 = hash }
    }
}
