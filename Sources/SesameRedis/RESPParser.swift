import NIOCore
import Sesame

/// Parses RESP2 replies from the front of a byte buffer, one complete reply at a time.
///
/// Incomplete input is not an error: the parser consumes nothing and asks for more bytes. Malformed input,
/// replies larger than the cap and nesting deeper than the cap throw ``SessionStoreError/invalidResponse(_:)``.
struct RESPParser: Sendable {
    /// The largest reply accepted, in bytes (a bulk string announcing more is rejected before it arrives).
    let maximumReplySize: Int
    /// The deepest nesting of arrays accepted.
    let maximumDepth: Int

    /// Creates a parser.
    ///
    /// - Parameters:
    ///   - maximumReplySize: The largest reply accepted, in bytes.
    ///   - maximumDepth: The deepest nesting of arrays accepted.
    init(maximumReplySize: Int, maximumDepth: Int = 32) {
        self.maximumReplySize = maximumReplySize
        self.maximumDepth = maximumDepth
    }

    /// Takes one complete reply off the front of `buffer`.
    ///
    /// - Parameter buffer: Received bytes; the reply's bytes are consumed when one is complete.
    /// - Returns: The reply, or `nil` (with nothing consumed) when the buffer does not hold a whole reply yet.
    /// - Throws: ``SessionStoreError/invalidResponse(_:)`` for malformed or oversized replies.
    func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        let parsed = try buffer.withUnsafeReadableBytes { bytes -> (RESPValue, Int)? in
            var offset = 0
            guard let value = try parseValue(bytes, at: &offset, depth: 0) else {
                if bytes.count > maximumReplySize { throw Self.invalid("reply larger than \(maximumReplySize) bytes") }
                return nil
            }
            return (value, offset)
        }
        guard let (value, length) = parsed else { return nil }
        buffer.moveReaderIndex(forwardBy: length)
        return value
    }

    private func parseValue(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, depth: Int) throws -> RESPValue? {
        guard offset < bytes.count else { return nil }
        let type = bytes[offset]
        guard let line = try readLine(bytes, from: offset + 1) else { return nil }
        let header = bytes[line.content]
        switch type {
        case UInt8(ascii: "+"):
            offset = line.next
            return .simpleString(String(decoding: header, as: UTF8.self))
        case UInt8(ascii: "-"):
            offset = line.next
            return .error(String(decoding: header, as: UTF8.self))
        case UInt8(ascii: ":"):
            guard let value = Self.integer(header) else { throw Self.invalid("malformed integer reply") }
            offset = line.next
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Self.integer(header), length >= -1 else { throw Self.invalid("malformed bulk string length") }
            if length == -1 {
                offset = line.next
                return .null
            }
            guard length <= maximumReplySize - line.next else {
                throw Self.invalid("bulk string of \(length) bytes exceeds the \(maximumReplySize)-byte reply limit")
            }
            let start = line.next, end = line.next + Int(length)
            guard end + 2 <= bytes.count else { return nil }
            guard bytes[end] == UInt8(ascii: "\r"), bytes[end + 1] == UInt8(ascii: "\n") else {
                throw Self.invalid("bulk string not terminated by CRLF")
            }
            offset = end + 2
            return .bulkString(Array(bytes[start..<end]))
        case UInt8(ascii: "*"):
            guard let count = Self.integer(header), count >= -1 else { throw Self.invalid("malformed array length") }
            if count == -1 {
                offset = line.next
                return .null
            }
            // Every element takes at least three bytes (`+\r\n`).
            guard count <= (maximumReplySize - line.next) / 3 else {
                throw Self.invalid("array of \(count) elements exceeds the \(maximumReplySize)-byte reply limit")
            }
            guard depth < maximumDepth else { throw Self.invalid("arrays nested deeper than \(maximumDepth)") }
            var cursor = line.next
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(min(count, 1024)))
            for _ in 0..<count {
                guard let element = try parseValue(bytes, at: &cursor, depth: depth + 1) else { return nil }
                guard cursor <= maximumReplySize else { throw Self.invalid("reply larger than \(maximumReplySize) bytes") }
                elements.append(element)
            }
            offset = cursor
            return .array(elements)
        default:
            throw Self.invalid("unknown reply type byte 0x\(String(type, radix: 16))")
        }
    }

    /// The line starting at `start`: its content (without CRLF) and where the next element begins; `nil`
    /// when the CRLF has not arrived yet.
    private func readLine(_ bytes: UnsafeRawBufferPointer, from start: Int) throws -> (content: Range<Int>, next: Int)? {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\r") {
                guard index + 1 < bytes.count else { return nil }
                guard bytes[index + 1] == UInt8(ascii: "\n") else { throw Self.invalid("CR not followed by LF") }
                return (start..<index, index + 2)
            }
            if byte == UInt8(ascii: "\n") { throw Self.invalid("LF without CR") }
            index += 1
        }
        if index - start > maximumReplySize { throw Self.invalid("reply line longer than \(maximumReplySize) bytes") }
        return nil
    }

    /// A strict decimal integer: an optional minus sign and at least one digit, within `Int64`.
    private static func integer(_ bytes: UnsafeRawBufferPointer.SubSequence) -> Int64? {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    private static func invalid(_ detail: String) -> SessionStoreError {
        .invalidResponse("malformed Redis reply: \(detail)")
    }
}
