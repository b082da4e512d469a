/// One CBOR data item (RFC 8949) of the kinds WebAuthn and CTAP2 use.
///
/// The model is the strict subset that authenticators emit: integers, byte and text strings, arrays, maps,
/// booleans and null. There are no tags, floats or `undefined`, and nothing is indefinite-length. Maps keep
/// their entries in order, as a list, so a decoded map can be re-encoded byte for byte.
///
/// Equality is CBOR's, not Swift's: two text strings are equal when their UTF-8 bytes are equal (Swift's
/// `String` equality treats canonically equivalent strings, such as `"\u{212A}"` and `"K"`, as equal; CBOR and
/// this type do not), and two maps are equal when they hold the same entries in the same order.
///
/// Decode with `decode(_:maxDepth:)`, encode with ``encoded()``.
public enum CBORValue: Sendable, Hashable {
    /// An unsigned integer (major type 0), `0 ... UInt64.max`.
    case unsignedInteger(UInt64)
    /// A negative integer (major type 1) stored as its argument `n`, meaning `-1 - n`, so the whole range
    /// `-2^64 ... -1` is exact. `.negativeInteger(0)` is -1 and `.negativeInteger(6)` is -7.
    case negativeInteger(UInt64)
    /// A byte string (major type 2).
    case byteString([UInt8])
    /// A text string (major type 3): valid UTF-8, stored without normalization.
    case textString(String)
    /// An array (major type 4).
    case array([CBORValue])
    /// A map (major type 5): its entries in order.
    case map([MapEntry])
    /// `false` or `true` (simple values 20 and 21).
    case bool(Bool)
    /// `null` (simple value 22).
    case null

    /// One key/value pair of a ``CBORValue/map(_:)``.
    public struct MapEntry: Sendable, Hashable {
        /// The key.
        public var key: CBORValue
        /// The value.
        public var value: CBORValue

        /// Creates an entry.
        ///
        /// - Parameters:
        ///   - key: The key.
        ///   - value: The value.
        public init(key: CBORValue, value: CBORValue) {
            self.key = key
            self.value = value
        }
    }

    /// The nesting depth of arrays and maps that the decoders allow unless told otherwise: 16.
    public static let defaultMaxDepth = 16

    /// The largest nesting depth the decoders accept as a parameter (larger requests are lowered to it): 64.
    public static let maxDepthLimit = 64

    /// Creates an integer item: ``unsignedInteger(_:)`` for zero and up, ``negativeInteger(_:)`` below zero.
    ///
    /// - Parameter value: The integer.
    public init(_ value: Int) {
        if value >= 0 {
            self = .unsignedInteger(UInt64(value))
        } else {
            // -1 - value, computed without overflow for Int.min.
            self = .negativeInteger(UInt64(bitPattern: Int64(~value)))
        }
    }

    /// The integer, when this is an integer that fits in `Int`.
    public var int: Int? {
        switch self {
        case .unsignedInteger(let value):
            return value <= UInt64(Int.max) ? Int(value) : nil
        case .negativeInteger(let argument):
            // -1 - argument >= Int.min  <=>  argument <= Int.max
            return argument <= UInt64(Int.max) ? ~Int(argument) : nil
        default:
            return nil
        }
    }

    /// The value, when this is an unsigned integer (the whole `UInt64` range).
    public var uint64: UInt64? {
        if case .unsignedInteger(let value) = self { return value }
        return nil
    }

    /// The bytes, when this is a byte string.
    public var bytes: [UInt8]? {
        if case .byteString(let bytes) = self { return bytes }
        return nil
    }

    /// The text, when this is a text string.
    public var text: String? {
        if case .textString(let text) = self { return text }
        return nil
    }

    /// The elements, when this is an array.
    public var array: [CBORValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The entries in order, when this is a map.
    public var mapEntries: [MapEntry]? {
        if case .map(let entries) = self { return entries }
        return nil
    }

    /// The value, when this is a boolean.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value stored under an integer key, when this is a map.
    ///
    /// - Parameter key: The key, for example a COSE label such as `3` (`alg`) or `-1` (`crv`).
    /// - Returns: The first entry's value whose key is that integer, or `nil` (also when this is not a map).
    public subscript(key: Int) -> CBORValue? {
        value(forKey: CBORValue(key))
    }

    /// The value stored under a text key, when this is a map.
    ///
    /// Keys are compared by their UTF-8 bytes, never by Unicode equivalence.
    ///
    /// - Parameter key: The key, for example `"fmt"`.
    /// - Returns: The first entry's value whose key is that text, or `nil` (also when this is not a map).
    public subscript(key: String) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries {
            if case .textString(let text) = entry.key, text.utf8.elementsEqual(key.utf8) { return entry.value }
        }
        return nil
    }

    /// The value stored under any key, when this is a map.
    ///
    /// - Parameter key: The key, compared with CBOR equality.
    /// - Returns: The first entry's value whose key equals `key`, or `nil` (also when this is not a map).
    public func value(forKey key: CBORValue) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries where entry.key == key { return entry.value }
        return nil
    }

    /// CBOR equality: same kind and same content, text compared by UTF-8 bytes, maps entry by entry in order.
    ///
    /// - Parameters:
    ///   - lhs: An item.
    ///   - rhs: Another item.
    /// - Returns: Whether the items are equal.
    public static func == (lhs: CBORValue, rhs: CBORValue) -> Bool {
        switch (lhs, rhs) {
        case (.unsignedInteger(let a), .unsignedInteger(let b)): return a == b
        case (.negativeInteger(let a), .negativeInteger(let b)): return a == b
        case (.byteString(let a), .byteString(let b)): return a == b
        case (.textString(let a), .textString(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// Hashes the item consistently with ``==(_:_:)`` (text by its UTF-8 bytes).
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .unsignedInteger(let value):
            hasher.combine(0 as UInt8)
            hasher.combine(value)
        case .negativeInteger(let value):
            hasher.combine(1 as UInt8)
            hasher.combine(value)
        case .byteString(let bytes):
            hasher.combine(2 as UInt8)
            hasher.combine(bytes)
        case .textString(let text):
            hasher.combine(3 as UInt8)
            hasher.combine(text.utf8.count)
            for byte in text.utf8 { hasher.combine(byte) }
        case .array(let elements):
            hasher.combine(4 as UInt8)
            hasher.combine(elements)
        case .map(let entries):
            hasher.combine(5 as UInt8)
            hasher.combine(entries)
        case .bool(let value):
            hasher.combine(6 as UInt8)
            hasher.combine(value)
        case .null:
            hasher.combine(7 as UInt8)
        }
    }
}

extension CBORValue: ExpressibleByIntegerLiteral {
    /// Creates an integer item from a literal.
    ///
    /// - Parameter value: The integer.
    public init(integerLiteral value: Int) {
        self.init(value)
    }
}

extension CBORValue: ExpressibleByStringLiteral {
    /// Creates a text string item from a literal.
    ///
    /// - Parameter value: The text.
    public init(stringLiteral value: String) {
        self = .textString(value)
    }
}

extension CBORValue: ExpressibleByBooleanLiteral {
    /// Creates a boolean item from a literal.
    ///
    /// - Parameter value: The boolean.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension CBORValue: ExpressibleByArrayLiteral {
    /// Creates an array item from a literal.
    ///
    /// - Parameter elements: The elements.
    public init(arrayLiteral elements: CBORValue...) {
        self = .array(elements)
    }
}

extension CBORValue: ExpressibleByDictionaryLiteral {
    /// Creates a map item from a literal, keeping the literal's order (``encoded()`` sorts keys canonically).
    ///
    /// - Parameter elements: The entries.
    public init(dictionaryLiteral elements: (CBORValue, CBORValue)...) {
        self = .map(elements.map { MapEntry(key: $0.0, value: $0.1) })
    }
}
