import NIOCore
import Sesame

/// Matches replies to commands on one connection: commands are written as they come, many may be in flight,
/// and Redis answers them in order.
///
/// The oldest unanswered command's deadline is watched; when it passes, or the connection fails or closes,
/// every command in flight fails and the connection is closed (a late reply could no longer be matched).
final class RedisPipelineHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    /// A command on its way out: its encoded bytes, the promise of its reply and the moment it times out.
    struct Request: Sendable {
        /// The encoded command.
        var bytes: ByteBuffer
        /// Completed with the reply, or failed with a `SessionStoreError`.
        var reply: EventLoopPromise<RESPValue>
        /// When the command fails if no reply has come.
        var deadline: NIODeadline
    }

    private struct Pending {
        var reply: EventLoopPromise<RESPValue>
        var deadline: NIODeadline
    }

    private var pending = CircularBuffer<Pending>()
    /// Whether a flush is already queued on the event loop for the commands written since the last one.
    private var flushQueued = false
    /// Set once the connection has failed: later commands fail at once.
    private var failure: SessionStoreError?
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.unavailable("the connection to Redis closed"))
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.reply.fail(failure)
            promise?.fail(failure)
            return
        }
        pending.append(Pending(reply: request.reply, deadline: request.deadline))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
        armTimer(context: context)
    }

    /// Flushes once for every command written in the same event-loop turn: commands from concurrent requests
    /// arrive as separate tasks on the event loop, and a flush queued behind them sends them in one write (and
    /// Redis reads them in one read).
    func flush(context: ChannelHandlerContext) {
        guard !flushQueued else { return }
        flushQueued = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushQueued = false
            self.context?.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let oldest = pending.popFirst() else {
            fail(.invalidResponse("Redis sent a reply to no command"), context: context)
            return
        }
        oldest.reply.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.unavailable("the connection to Redis closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let storeError = (error as? SessionStoreError) ?? .unavailable("the connection to Redis failed: \(error)")
        fail(storeError, context: context)
    }

    /// Closes the connection first (so that nobody picks it for a new command once the failures are
    /// reported), then fails every command in flight with `error`.
    private func fail(_ error: SessionStoreError, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        context.close(promise: nil)
        failAll(error)
    }

    private func failAll(_ error: SessionStoreError) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        while let entry = pending.popFirst() { entry.reply.fail(failure ?? error) }
    }

    /// Watches the oldest command's deadline, unless a watch is already set.
    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil, let oldest = pending.first else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: oldest.deadline) { [self] in
            timer = nil
            checkDeadline()
        }
    }

    private func checkDeadline() {
        guard let context, let oldest = pending.first else { return }
        if oldest.deadline <= .now() {
            fail(.unavailable("Redis did not answer within the command timeout"), context: context)
        } else {
            armTimer(context: context)
        }
    }
}

@available(*, unavailable)
extension RedisPipelineHandler: Sendable {}
