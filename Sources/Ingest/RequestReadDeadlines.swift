import Common
import NIOCore
import NIOHTTPTypes

/// Closes connections that send too slowly, so slow or idle clients cannot
/// hold the server's connections and memory (a "slowloris"):
/// - a request head must arrive within `headTimeout` of the connection
///   opening or of the previous response ending (so this is also the
///   keep-alive idle limit);
/// - a request body must keep an average of `minimumRate` bytes a second
///   after a grace of `bodyTimeout` from its head (the rule of Apache's
///   mod_reqtimeout), and end within `maxBodyDuration` whatever its rate: a
///   client trickling bytes is dropped, and no client holds a body's budget
///   for longer than that.
/// Only reading is timed; the server's own work on a request is not.
///
/// A response that is complete before its request's body (a 401, 413 or
/// 503 given on the head alone) closes the connection: the rest of that body
/// is never read, so refusing an upload costs nothing more than the refusal.
final class RequestReadDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var headTimeout: TimeAmount = .seconds(20)
        var bodyTimeout: TimeAmount = .seconds(20)
        var minimumRate = 10 << 10
        var maxBodyDuration: TimeAmount = .seconds(120)
    }

    private let limits: Limits
    private let onTimeout: @Sendable () -> Void
    private var deadline: NIODeadline?
    private var check: Scheduled<Void>?
    /// The current request's body: when it started and how much arrived.
    private var body: (start: NIODeadline, received: Int64)?
    private var requestEnded = true

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
            requestEnded = false
            body = (.now(), 0)
            arm(bodyDeadline(), context: context)
        case .body(let buffer):
            body?.received += Int64(buffer.readableBytes)
            deadline = body.map { _ in bodyDeadline() }
        case .end:
            requestEnded = true
            body = nil
            disarm()  // the server works on the request now; the response's end starts the next head's clock
        }
        context.fireChannelRead(data)
    }

    /// Grace plus a second per `minimumRate` bytes received, capped.
    private func bodyDeadline() -> NIODeadline {
        guard let body else { return .now() + limits.headTimeout }
        let earned = TimeAmount.nanoseconds(body.received / Int64(max(limits.minimumRate, 1)) * 1_000_000_000
            + body.received % Int64(max(limits.minimumRate, 1)) * 1_000_000_000 / Int64(max(limits.minimumRate, 1)))
        return min(body.start + limits.bodyTimeout + earned, body.start + limits.maxBodyDuration)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where !requestEnded:
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where !requestEnded:
            disarm()
            let written = context.eventLoop.makePromise(of: Void.self)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
        case .end:
            arm(.now() + limits.headTimeout, context: context)
            context.write(data, promise: promise)
        case .head, .body:
            context.write(data, promise: promise)
        }
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
