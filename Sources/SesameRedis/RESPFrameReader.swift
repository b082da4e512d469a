import NIOCore

/// Accumulates bytes as they arrive and hands out complete RESP replies: the framing of
/// ``RESPReplyDecoder`` without a channel.
struct RESPFrameReader: Sendable {
    private var buffer = ByteBuffer()
    private let parser: RESPParser

    /// Creates an empty reader.
    ///
    /// - Parameter maximumReplySize: The largest reply accepted, in bytes.
    init(maximumReplySize: Int = 1 << 20) {
        parser = RESPParser(maximumReplySize: maximumReplySize)
    }

    /// The bytes received but not yet returned as a reply.
    var bufferedBytes: Int { buffer.readableBytes }

    /// Appends received bytes.
    ///
    /// - Parameter bytes: The next bytes of the stream, cut anywhere.
    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.writeBytes(bytes)
    }

    /// The next complete reply, if the bytes so far hold one.
    ///
    /// - Returns: The reply, or `nil` when more bytes are needed.
    /// - Throws: `SessionStoreError.invalidResponse(_:)` for malformed or oversized replies.
    mutating func next() throws -> RESPValue? {
        try parser.parse(&buffer)
    }
}
