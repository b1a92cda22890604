import Common
import NIOCore
import NIOHTTPTypes

/// Closes connections that send too slowly, so slow or idle clients cannot
/// hold the server's connections and memory (a "slowloris"):
/// - a request head must arrive within `headTimeout` of the connection
///   opening or of the previous response ending (so this is also the
///   keep-alive idle limit);
/// - a request body gets `bodyTimeout` from its head, extended by one second
///   for every `minimumRate` bytes received, the rule of Apache's
///   mod_reqtimeout: an honest upload at any usable speed finishes, a client
///   trickling a byte a second is dropped after about `bodyTimeout`.
/// Only reading is timed; the server's own work on a request is not.
final class RequestReadDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var headTimeout: TimeAmount = .seconds(20)
        var bodyTimeout: TimeAmount = .seconds(20)
        var minimumRate = 500
    }

    private let limits: Limits
    private let onTimeout: @Sendable () -> Void
    private var deadline: NIODeadline?
    private var check: Scheduled<Void>?

    init(limits: Limits, onTimeout: @escaping @Sendable () -> Void) {
        self.limits = limits
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(.now() + limits.headTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            arm(.now() + limits.bodyTimeout, context: context)
        case .body(let buffer):
            deadline = deadline.map { $0 + .nanoseconds(Int64(buffer.readableBytes) * 1_000_000_000 / Int64(limits.minimumRate)) }
        case .end:
            disarm()  // the server works on the request now; the response's end starts the next head's clock
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(.now() + limits.headTimeout, context: context) }
        context.write(data, promise: promise)
    }

    private func arm(_ at: NIODeadline, context: ChannelHandlerContext) {
        deadline = at
        scheduleCheck(context: context)
    }

    /// One timer at a time: when it fires early (the deadline moved), it is set again.
    private func scheduleCheck(context: ChannelHandlerContext) {
        guard check == nil, let deadline else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.check = nil
            guard let current = handler.deadline else { return }
            if current > .now() { return handler.scheduleCheck(context: context) }
            handler.onTimeout()
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline = nil
        check?.cancel()
        check = nil
    }
}
