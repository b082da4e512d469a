/// One RESP2 reply from a Redis server.
///
/// Null bulk strings (`$-1`) and null arrays (`*-1`) both decode to ``null``: no command this module sends
/// needs to tell them apart.
public enum RESPValue: Sendable, Equatable {
    /// A simple string (`+OK`).
    case simpleString(String)
    /// An error reply (`-ERR message`), kept as a value: the caller decides what it means.
    case error(String)
    /// An integer (`:42`).
    case integer(Int64)
    /// A bulk string (`$3\r\nabc`), binary-safe.
    case bulkString([UInt8])
    /// A null bulk string or a null array.
    case null
    /// An array of replies, possibly nested.
    case array([RESPValue])

    /// The value as bytes: a bulk string's content, or a simple string's UTF-8; `nil` otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let string): Array(string.utf8)
        default: nil
        }
    }

    /// The value as text: a bulk or simple string decoded as UTF-8 (invalid sequences repaired); `nil` otherwise.
    public var string: String? {
        switch self {
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .simpleString(let string): string
        default: nil
        }
    }

    /// The value as an integer: an integer reply, or a bulk or simple string holding a decimal integer;
    /// `nil` otherwise.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// Whether the value is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
