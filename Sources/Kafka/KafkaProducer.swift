import CRdKafka
import Foundation
import Synchronization

/// A Kafka producer whose `send` returns once the broker acknowledged the
/// record (the delivery report), or throws why it could not.
///
/// Delivery reports arrive as librdkafka events on the main queue, served by
/// one polling thread; each pending send is a continuation keyed by the
/// per-message opaque, so no C callback is involved.
public final class KafkaProducer: Sendable {
    private let core: ProducerCore

    public init(configuration: KafkaConfiguration) throws {
        core = try ProducerCore(configuration: configuration)
    }

    /// For a producer on the answer path (a person is waiting): a record waits
    /// at most 1 ms for others to share its request, not librdkafka's default
    /// 5 ms, which an answer would pay at each of the three sends it crosses.
    /// Not 0: the extractor's and the answerer's producers also carry backfill
    /// records, and those produced within that millisecond are still batched
    /// (per partition), as `linger.ms` promises, where 0 would send them as
    /// they come.
    public static let lowLatency = (key: "linger.ms", value: "1")

    /// Stops serving delivery reports once queued records are acknowledged
    /// (records still queued after the flush fail with `.closed`).
    deinit { core.shutdown() }

    /// Fails fast when no broker answers; see `KafkaHandle.checkReachable`.
    public func checkReachable(timeout: Duration = .seconds(10)) async throws {
        let handle = core.handle
        try await KafkaThreads.run { try handle.checkReachable(timeout: timeout) }
    }

    /// Sends one record and waits for its delivery report. The record is
    /// partitioned by `key` (librdkafka's consistent-random partitioner).
    @discardableResult
    public func send(topic: String, key: [UInt8]?, value: [UInt8]) async throws -> DeliveryReport {
        try await core.send(topic: topic, key: key, value: value)
    }

    /// Flushes (waiting up to `timeout` for the broker's acknowledgements,
    /// on the module's threads), then stops; later sends fail.
    public func close(timeout: Duration = .seconds(30)) async throws {
        let core = self.core
        try await KafkaThreads.run {
            defer { core.shutdown() }
            try core.flush(timeout: timeout)
        }
    }
}

/// The state the event thread shares with the producer.
// librdkafka handles and queues are thread-safe; the rest is Mutex/Atomic.
private final class ProducerCore: @unchecked Sendable {
    let handle: KafkaHandle
    private let queue: OpaquePointer
    private let shutdownOnce = Mutex<Bool>(false)
    /// Each send's delivery report, or nil when librdkafka's queue was full.
    private let pending = Mutex<[UInt: CheckedContinuation<DeliveryReport?, any Error>]>([:])
    private let nextID = Atomic<UInt>(1)
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)
    private let lastError = Mutex<String?>(nil)

    init(configuration: KafkaConfiguration) throws {
        handle = try KafkaHandle(type: RD_KAFKA_PRODUCER, configuration: configuration) { conf in
            rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
        }
        queue = rd_kafka_queue_get_main(handle.pointer)
        let thread = Thread { [self] in
            Thread.current.name = "kafka-delivery"  // from inside: Linux ignores a name given before start
            serveEvents()
        }
        thread.start()
    }

    func shutdown() {
        let first = shutdownOnce.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        running.store(false, ordering: .releasing)
        stopped.wait()
        rd_kafka_queue_destroy(queue)
    }

    func send(topic: String, key: [UInt8]?, value: [UInt8]) async throws -> DeliveryReport {
        while true {
            let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
            let report: DeliveryReport? = try await withCheckedThrowingContinuation { continuation in
                guard running.load(ordering: .acquiring) else {
                    continuation.resume(throwing: KafkaError(.closed, "the producer is closed"))
                    return
                }
                pending.withLock { $0[id] = continuation }
                let error = produce(topic: topic, key: key, value: value, id: id)
                guard error != RD_KAFKA_RESP_ERR_NO_ERROR else { return }  // its delivery report resumes it
                pending.withLock { _ = $0.removeValue(forKey: id) }
                if error == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    continuation.resume(returning: nil)
                } else {
                    continuation.resume(throwing: KafkaError(.delivery, error: error, "cannot produce to \(topic)"))
                }
            }
            if let report { return report }
            // The local queue is full; it drains as delivery reports come
            // back. The task waits, not its thread.
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    func flush(timeout: Duration = .seconds(30)) throws {
        let error = rd_kafka_flush(handle.pointer, timeout.milliseconds)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.delivery, error: error, "flush did not finish within \(timeout); last error: \(lastError.withLock { $0 } ?? "none")")
        }
    }

    /// Queues one record; librdkafka copies key and value
    /// (RD_KAFKA_MSG_F_COPY), so the buffers only need to live through the call.
    private func produce(topic: String, key: [UInt8]?, value: [UInt8], id: UInt) -> rd_kafka_resp_err_t {
        topic.withCString { topicName in
            value.withUnsafeBytes { valueBytes in
                (key ?? []).withUnsafeBytes { keyBytes in
                    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: key == nil ? 4 : 5)
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topicName
                    fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[1].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress), size: valueBytes.count)
                    fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[2].u.i = RD_KAFKA_MSG_F_COPY
                    fields[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                    fields[3].u.ptr = UnsafeMutableRawPointer(bitPattern: id)
                    if key != nil {
                        fields[4].vtype = RD_KAFKA_VTYPE_KEY
                        fields[4].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress), size: keyBytes.count)
                    }
                    guard let failure = rd_kafka_produceva(handle.pointer, fields, fields.count) else {
                        return RD_KAFKA_RESP_ERR_NO_ERROR
                    }
                    defer { rd_kafka_error_destroy(failure) }
                    return rd_kafka_error_code(failure)
                }
            }
        }
    }

    private func serveEvents() {
        while running.load(ordering: .acquiring) || rd_kafka_outq_len(handle.pointer) > 0 {
            guard let event = rd_kafka_queue_poll(queue, 100) else { continue }
            defer { rd_kafka_event_destroy(event) }
            switch rd_kafka_event_type(event) {
            case Int32(RD_KAFKA_EVENT_DR):
                while let message = rd_kafka_event_message_next(event) {
                    complete(message)
                }
            case Int32(RD_KAFKA_EVENT_ERROR):
                let text = String(cString: rd_kafka_event_error_string(event))
                lastError.withLock { $0 = text }
            default:
                break
            }
            if !running.load(ordering: .acquiring) && rd_kafka_outq_len(handle.pointer) > 0 {
                // Shutting down with records still queued: fail them rather than hang.
                rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            }
        }
        let abandoned = pending.withLock { pending in
            defer { pending.removeAll() }
            return Array(pending.values)
        }
        for continuation in abandoned {
            continuation.resume(throwing: KafkaError(.closed, "the producer closed before the record was acknowledged"))
        }
        stopped.signal()
    }

    private func complete(_ message: UnsafePointer<rd_kafka_message_t>) {
        let id = UInt(bitPattern: message.pointee._private)
        guard let continuation = pending.withLock({ $0.removeValue(forKey: id) }) else { return }
        let m = message.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let topic = String(cString: rd_kafka_topic_name(m.rkt))
            continuation.resume(throwing: KafkaError(.delivery, error: m.err, "delivery to \(topic) failed"))
        } else {
            let topic = String(cString: rd_kafka_topic_name(m.rkt))
            continuation.resume(returning: DeliveryReport(
                topicPartition: TopicPartition(topic: topic, partition: m.partition), offset: m.offset))
        }
    }
}
