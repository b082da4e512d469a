import NIOCore

/// The channel decoder that turns received bytes into ``RESPValue`` replies, one message per reply.
struct RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let parser: RESPParser

    /// Creates a decoder.
    ///
    /// - Parameter maximumReplySize: The largest reply accepted, in bytes.
    init(maximumReplySize: Int) {
        parser = RESPParser(maximumReplySize: maximumReplySize)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }
}
