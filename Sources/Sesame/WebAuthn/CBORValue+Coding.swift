extension CBORValue {
    /// Decodes bytes that must hold exactly one CBOR item in the strict canonical subset.
    ///
    /// The subset is what CTAP2 calls canonical CBOR, restricted to the types WebAuthn uses:
    /// - integers, lengths and counts in their shortest form;
    /// - definite lengths only (no indefinite-length strings, arrays or maps);
    /// - no tags, floating-point numbers, `undefined` or other simple values (only `false`, `true`, `null`);
    /// - text strings in valid UTF-8;
    /// - map keys unique and sorted in CTAP2 canonical order (shorter encoding first, then bytewise);
    /// - arrays and maps nested at most `maxDepth` deep (an array inside an array is depth 2).
    ///
    /// Every length and count is checked against the bytes left before anything is allocated, so a claimed
    /// length of 2^64 - 1 is a ``CBORError/Code/lengthTooLarge`` error, not an allocation.
    ///
    /// - Parameters:
    ///   - bytes: The encoded item, nothing before or after it.
    ///   - maxDepth: How many arrays and maps may be nested (at most ``maxDepthLimit``; larger values are
    ///     lowered to it). The default is ``defaultMaxDepth``.
    /// - Returns: The item.
    /// - Throws: ``CBORError``: ``CBORError/Code/trailingBytes`` when bytes follow the item, and the code of the
    ///   first rule broken otherwise.
    public static func decode(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(CBORError) -> CBORValue {
        try bytes.withUnsafeBufferPointer { buffer throws(CBORError) in
            try decodeWhole(buffer, maxDepth: maxDepth)
        }
    }

    /// Decodes a slice that must hold exactly one CBOR item in the strict canonical subset.
    ///
    /// The rules are those of `decode(_:maxDepth:)`. Error offsets count from the slice's start.
    ///
    /// - Parameters:
    ///   - bytes: The encoded item, nothing before or after it.
    ///   - maxDepth: How many arrays and maps may be nested (at most ``maxDepthLimit``).
    /// - Returns: The item.
    /// - Throws: ``CBORError``.
    public static func decode(_ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth) throws(CBORError) -> CBORValue {
        try bytes.withUnsafeBufferPointer { buffer throws(CBORError) in
            try decodeWhole(buffer, maxDepth: maxDepth)
        }
    }

    /// Decodes the one CBOR item at the start of some bytes and says how many bytes it took, for formats that
    /// put CBOR items one after another (authenticator data holds a COSE key followed by extensions).
    ///
    /// The rules are those of `decode(_:maxDepth:)`, except that bytes after the item are allowed.
    ///
    /// - Parameters:
    ///   - bytes: Bytes that start with an encoded item.
    ///   - maxDepth: How many arrays and maps may be nested (at most ``maxDepthLimit``).
    /// - Returns: The item, and the number of bytes its encoding took from the start of `bytes`.
    /// - Throws: ``CBORError``.
    public static func decodePrefix(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth
    ) throws(CBORError) -> (value: CBORValue, byteCount: Int) {
        try bytes.withUnsafeBufferPointer { buffer throws(CBORError) in
            try decodeFirst(buffer, maxDepth: maxDepth)
        }
    }

    /// Decodes the one CBOR item at the start of a slice and says how many bytes it took.
    ///
    /// The rules are those of `decodePrefix(_:maxDepth:)`. Error offsets count from the slice's
    /// start.
    ///
    /// - Parameters:
    ///   - bytes: Bytes that start with an encoded item.
    ///   - maxDepth: How many arrays and maps may be nested (at most ``maxDepthLimit``).
    /// - Returns: The item, and the number of bytes its encoding took from the start of `bytes`.
    /// - Throws: ``CBORError``.
    public static func decodePrefix(
        _ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth
    ) throws(CBORError) -> (value: CBORValue, byteCount: Int) {
        try bytes.withUnsafeBufferPointer { buffer throws(CBORError) in
            try decodeFirst(buffer, maxDepth: maxDepth)
        }
    }

    private static func decodeWhole(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(CBORError) -> CBORValue {
        var reader = CBORItemReader(input: buffer, maxDepth: maxDepth)
        let value = try reader.readItem(depth: 0)
        guard reader.position == buffer.count else {
            throw CBORError(
                .trailingBytes, detail: "\(buffer.count - reader.position) bytes follow the item",
                offset: reader.position)
        }
        return value
    }

    private static func decodeFirst(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int
    ) throws(CBORError) -> (value: CBORValue, byteCount: Int) {
        var reader = CBORItemReader(input: buffer, maxDepth: maxDepth)
        let value = try reader.readItem(depth: 0)
        return (value, reader.position)
    }

    /// Encodes the item in canonical form: shortest-form integers and lengths, definite lengths, and map
    /// entries sorted in CTAP2 canonical order (shorter key encoding first, then bytewise).
    ///
    /// Whatever `decode(_:maxDepth:)` accepted encodes back to the same bytes. A map built with the
    /// same key twice is encoded with both entries, which the decoder then rejects.
    ///
    /// - Returns: The encoding.
    public func encoded() -> [UInt8] {
        var output: [UInt8] = []
        encode(into: &output)
        return output
    }

    /// Appends the canonical encoding (see ``encoded()``) to a buffer.
    ///
    /// - Parameter output: The buffer to append to.
    public func encode(into output: inout [UInt8]) {
        switch self {
        case .unsignedInteger(let value):
            Self.appendHead(major: 0, argument: value, to: &output)
        case .negativeInteger(let argument):
            Self.appendHead(major: 1, argument: argument, to: &output)
        case .byteString(let bytes):
            Self.appendHead(major: 2, argument: UInt64(bytes.count), to: &output)
            output.append(contentsOf: bytes)
        case .textString(let text):
            Self.appendHead(major: 3, argument: UInt64(text.utf8.count), to: &output)
            output.append(contentsOf: text.utf8)
        case .array(let elements):
            Self.appendHead(major: 4, argument: UInt64(elements.count), to: &output)
            for element in elements { element.encode(into: &output) }
        case .map(let entries):
            Self.appendHead(major: 5, argument: UInt64(entries.count), to: &output)
            let keys = entries.map { $0.key.encoded() }
            let order = keys.indices.sorted { Self.canonicallyPrecedes(keys[$0], keys[$1]) }
            for index in order {
                output.append(contentsOf: keys[index])
                entries[index].value.encode(into: &output)
            }
        case .bool(let value):
            output.append(value ? 0xf5 : 0xf4)
        case .null:
            output.append(0xf6)
        }
    }

    /// CTAP2 canonical key order on encodings: shorter first, then bytewise.
    private static func canonicallyPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a.count != b.count { return a.count < b.count }
        return a.lexicographicallyPrecedes(b)
    }

    /// Appends a head (major type and argument) in its shortest form.
    private static func appendHead(major: UInt8, argument: UInt64, to output: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24:
            output.append(type | UInt8(argument))
        case 24...0xff:
            output.append(type | 24)
            output.append(UInt8(argument))
        case 0x100...0xffff:
            output.append(type | 25)
            appendBigEndian(argument, width: 2, to: &output)
        case 0x1_0000...0xffff_ffff:
            output.append(type | 26)
            appendBigEndian(argument, width: 4, to: &output)
        default:
            output.append(type | 27)
            appendBigEndian(argument, width: 8, to: &output)
        }
    }

    private static func appendBigEndian(_ value: UInt64, width: Int, to output: inout [UInt8]) {
        var shift = (width - 1) * 8
        while shift >= 0 {
            output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }
}
