/// Why bytes were rejected as CBOR.
///
/// `CBORValue.decode(_:maxDepth:)` accepts only the strict subset of CBOR (RFC 8949) that
/// WebAuthn and CTAP2 use, in its canonical form, so every rejection names one rule. Two errors are equal when
/// their ``code``s are equal: ``detail`` and ``offset`` are context for humans and logs, and are not part of
/// equality.
public struct CBORError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rule the input broke.
    public enum Code: String, Sendable, Hashable {
        /// The input ended inside an item (a head, an argument or a string's content).
        case truncated = "truncated"
        /// One complete item was read and bytes are left over.
        case trailingBytes = "trailing_bytes"
        /// An integer, length or count is not in its shortest form.
        case nonCanonical = "non_canonical"
        /// An indefinite-length string, array or map.
        case indefiniteLength = "indefinite_length"
        /// A tag, a floating-point number, `undefined` or another simple value.
        case unsupportedType = "unsupported_type"
        /// A reserved additional-information value, or a "break" byte outside an indefinite-length item.
        case malformed = "malformed"
        /// Arrays and maps are nested deeper than the decoder allows.
        case tooDeep = "too_deep"
        /// A map holds the same key twice.
        case duplicateKey = "duplicate_key"
        /// A map's keys are not in CTAP2 canonical order (shorter encoding first, then bytewise).
        case unorderedKeys = "unordered_keys"
        /// A text string is not valid UTF-8.
        case invalidUTF8 = "invalid_utf8"
        /// A string length or an item count is larger than the bytes left in the input could hold.
        case lengthTooLarge = "length_too_large"
    }

    /// The rule the input broke.
    public let code: Code
    /// A note for humans: what was found where. It never holds more than a few bytes of the input.
    public let detail: String
    /// The offset, in bytes from the start of the decoded input, of the item or byte that broke the rule.
    public let offset: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The rule the input broke.
    ///   - detail: A note for humans.
    ///   - offset: The offset of the offending item or byte.
    public init(_ code: Code, detail: String, offset: Int) {
        self.code = code
        self.detail = detail
        self.offset = offset
    }

    /// Whether two errors have the same ``code``.
    ///
    /// - Parameters:
    ///   - lhs: An error.
    ///   - rhs: Another error.
    /// - Returns: `true` when the codes are equal.
    public static func == (lhs: CBORError, rhs: CBORError) -> Bool { lhs.code == rhs.code }

    /// Hashes the ``code``.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `code at offset N: detail`.
    public var description: String { "\(code.rawValue) at offset \(offset): \(detail)" }
}
