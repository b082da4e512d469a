/// The strict CBOR decoder behind ``CBORValue``'s `decode` functions: one pass over a borrowed buffer with an
/// index, no copies except the strings and containers it returns.
///
/// Every length and count is checked against the bytes left before anything is allocated, and arrays reserve
/// at most a small, fixed capacity up front, so the memory a decode takes is proportional to the input's size
/// whatever lengths the input claims. Recursion is bounded by `maxDepth`, which the callers clamp to
/// ``CBORValue/maxDepthLimit``.
struct CBORItemReader {
    /// The input. Valid only for the reader's lifetime (it is borrowed from `withUnsafeBufferPointer`).
    let input: UnsafeBufferPointer<UInt8>
    /// The next byte to read.
    private(set) var position: Int = 0
    /// How many arrays and maps may be nested.
    let maxDepth: Int

    /// The most capacity an array or map reserves before its elements are read: the declared count is
    /// attacker-controlled, and nested containers could each reserve the whole remaining input.
    private static let reservationLimit = 16

    init(input: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.input = input
        self.maxDepth = min(max(maxDepth, 0), CBORValue.maxDepthLimit)
    }

    /// The bytes not read yet.
    private var remaining: Int { input.count &- position }

    /// Reads one complete item.
    ///
    /// - Parameter depth: How many arrays and maps enclose the item.
    /// - Returns: The item.
    /// - Throws: ``CBORError`` for anything outside the strict canonical subset.
    mutating func readItem(depth: Int) throws(CBORError) -> CBORValue {
        let start = position
        guard position < input.count else {
            throw CBORError(.truncated, detail: "expected an item, found the end of the input", offset: start)
        }
        let initial = input[position]
        position &+= 1
        let major = initial >> 5
        let info = initial & 0x1f

        switch major {
        case 0 where info == 31, 1 where info == 31:
            throw CBORError(.malformed, detail: "an integer cannot be indefinite-length", offset: start)
        case 0:
            return .unsignedInteger(try readArgument(info: info, start: start))
        case 1:
            return .negativeInteger(try readArgument(info: info, start: start))
        case 2:
            let length = try readLength(info: info, start: start, what: "byte string")
            let bytes = Array(UnsafeBufferPointer(rebasing: input[position..<(position &+ length)]))
            position &+= length
            return .byteString(bytes)
        case 3:
            let length = try readLength(info: info, start: start, what: "text string")
            let content = UnsafeBufferPointer(rebasing: input[position..<(position &+ length)])
            guard let text = String(validating: content, as: UTF8.self) else {
                throw CBORError(.invalidUTF8, detail: "text string of \(length) bytes is not valid UTF-8", offset: start)
            }
            position &+= length
            return .textString(text)
        case 4:
            guard depth < maxDepth else {
                throw CBORError(.tooDeep, detail: "arrays and maps nested deeper than \(maxDepth)", offset: start)
            }
            let count = try readCount(info: info, start: start, bytesPerElement: 1, what: "array")
            var elements: [CBORValue] = []
            elements.reserveCapacity(min(count, Self.reservationLimit))
            for _ in 0..<count {
                elements.append(try readItem(depth: depth &+ 1))
            }
            return .array(elements)
        case 5:
            guard depth < maxDepth else {
                throw CBORError(.tooDeep, detail: "arrays and maps nested deeper than \(maxDepth)", offset: start)
            }
            let count = try readCount(info: info, start: start, bytesPerElement: 2, what: "map")
            return .map(try readMapEntries(count: count, depth: depth))
        case 6:
            throw CBORError(.unsupportedType, detail: "tags are not supported (initial byte 0x\(hex(initial)))", offset: start)
        default:
            return try readSimple(info: info, initial: initial, start: start)
        }
    }

    /// Reads a map's entries, checking that keys are unique and in CTAP2 canonical order: compared by their
    /// encodings, a shorter encoding sorts first and equal lengths sort bytewise. Every item is already known to
    /// be in canonical form, so comparing encodings compares values.
    private mutating func readMapEntries(count: Int, depth: Int) throws(CBORError) -> [CBORValue.MapEntry] {
        var entries: [CBORValue.MapEntry] = []
        entries.reserveCapacity(min(count, Self.reservationLimit))
        var previousKeyStart = -1
        var previousKeyEnd = -1
        for _ in 0..<count {
            let keyStart = position
            let key = try readItem(depth: depth &+ 1)
            let keyEnd = position
            if previousKeyStart >= 0 {
                let order = compareEncodings(previousKeyStart, previousKeyEnd, keyStart, keyEnd)
                if order == 0 {
                    throw CBORError(.duplicateKey, detail: "map key repeats the previous key", offset: keyStart)
                }
                if order > 0 {
                    if entries.contains(where: { $0.key == key }) {
                        throw CBORError(.duplicateKey, detail: "map key repeats an earlier key", offset: keyStart)
                    }
                    throw CBORError(
                        .unorderedKeys, detail: "map key sorts before the previous key (CTAP2 canonical order)",
                        offset: keyStart)
                }
            }
            previousKeyStart = keyStart
            previousKeyEnd = keyEnd
            let value = try readItem(depth: depth &+ 1)
            entries.append(CBORValue.MapEntry(key: key, value: value))
        }
        return entries
    }

    /// Compares two encoded items in CTAP2 canonical order.
    ///
    /// - Returns: A negative number when the first sorts first, zero when they are identical, positive otherwise.
    private func compareEncodings(_ aStart: Int, _ aEnd: Int, _ bStart: Int, _ bEnd: Int) -> Int {
        let aLength = aEnd &- aStart
        let bLength = bEnd &- bStart
        if aLength != bLength { return aLength < bLength ? -1 : 1 }
        var offset = 0
        while offset < aLength {
            let a = input[aStart &+ offset]
            let b = input[bStart &+ offset]
            if a != b { return a < b ? -1 : 1 }
            offset &+= 1
        }
        return 0
    }

    /// Reads the simple values this subset allows (false, true, null) and rejects the rest of major type 7.
    private mutating func readSimple(info: UInt8, initial: UInt8, start: Int) throws(CBORError) -> CBORValue {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23:
            throw CBORError(.unsupportedType, detail: "undefined is not supported", offset: start)
        case 0..<20, 24:
            throw CBORError(.unsupportedType, detail: "simple values other than false, true and null are not supported", offset: start)
        case 25, 26, 27:
            throw CBORError(.unsupportedType, detail: "floating-point numbers are not supported", offset: start)
        case 31:
            throw CBORError(.malformed, detail: "a break byte outside an indefinite-length item", offset: start)
        default:
            throw CBORError(.malformed, detail: "reserved additional information in 0x\(hex(initial))", offset: start)
        }
    }

    /// Reads a head's argument in shortest form.
    ///
    /// - Parameters:
    ///   - info: The additional information (low five bits of the initial byte).
    ///   - start: The offset of the initial byte, for errors.
    /// - Returns: The argument.
    private mutating func readArgument(info: UInt8, start: Int) throws(CBORError) -> UInt64 {
        if info < 24 { return UInt64(info) }
        let width: Int
        let minimum: UInt64
        switch info {
        case 24: width = 1; minimum = 24
        case 25: width = 2; minimum = 0x100
        case 26: width = 4; minimum = 0x1_0000
        case 27: width = 8; minimum = 0x1_0000_0000
        case 31:
            throw CBORError(
                .indefiniteLength, detail: "indefinite-length items are not supported (initial byte 0x\(hex(input[start])))",
                offset: start)
        default:
            throw CBORError(.malformed, detail: "reserved additional information \(info)", offset: start)
        }
        guard remaining >= width else {
            throw CBORError(.truncated, detail: "the input ends inside a \(width)-byte argument", offset: start)
        }
        var value: UInt64 = 0
        for _ in 0..<width {
            value = value << 8 | UInt64(input[position])
            position &+= 1
        }
        guard value >= minimum else {
            throw CBORError(.nonCanonical, detail: "argument \(value) is not in its shortest form", offset: start)
        }
        return value
    }

    /// Reads a string's length and checks that the content is there.
    private mutating func readLength(info: UInt8, start: Int, what: StaticString) throws(CBORError) -> Int {
        let length = try readArgument(info: info, start: start)
        guard length <= UInt64(remaining) else {
            throw CBORError(
                .lengthTooLarge, detail: "\(what) claims \(length) bytes but \(remaining) remain", offset: start)
        }
        return Int(length)
    }

    /// Reads an array's or map's count and checks that the input could hold that many items.
    private mutating func readCount(
        info: UInt8, start: Int, bytesPerElement: Int, what: StaticString
    ) throws(CBORError) -> Int {
        let count = try readArgument(info: info, start: start)
        guard count <= UInt64(remaining / bytesPerElement) else {
            throw CBORError(
                .lengthTooLarge, detail: "\(what) claims \(count) entries but only \(remaining) bytes remain",
                offset: start)
        }
        return Int(count)
    }

    private func hex(_ byte: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
