import CRdKafka
import Synchronization

extension KafkaConsumer {
    /// Marks `message` and everything before it in its partition as done.
    public func commit(_ message: KafkaMessage) async throws {
        try await commit([message.topicPartition: message.offset + 1])
    }

    /// Commits the next offsets to read and returns once the group
    /// coordinator has stored them. The request goes out through
    /// `rd_kafka_commit_queue`, and its result comes back on librdkafka's
    /// background thread, which resumes the caller: no thread waits for the
    /// round trip.
    public func commit(_ nextOffsets: [TopicPartition: Int64]) async throws {
        guard !nextOffsets.isEmpty else { return }
        guard !closed.load(ordering: .acquiring) else {
            throw KafkaError(.closed, "offsets \(nextOffsets) not committed: the consumer is closed")
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let request = Unmanaged.passRetained(PendingCommit(offsets: nextOffsets, continuation: continuation))
            let list = makePartitionList(nextOffsets)  // librdkafka copies it
            defer { rd_kafka_topic_partition_list_destroy(list) }
            // The background queue is served by librdkafka's own thread; this
            // reference to it only needs to live through the call.
            let queue = rd_kafka_queue_get_background(handle.pointer)
            defer { if let queue { rd_kafka_queue_destroy(queue) } }
            let error = queue == nil
                ? RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE
                : rd_kafka_commit_queue(handle.pointer, list, queue, commitResult, request.toOpaque())
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                // Refused before it was queued: no result will come.
                request.takeRetainedValue().finish(error)
                return
            }
        }
    }
}

/// A commit on its way: what resumes its caller when librdkafka answers.
private final class PendingCommit: Sendable {
    let offsets: [TopicPartition: Int64]
    let continuation: CheckedContinuation<Void, any Error>

    init(offsets: [TopicPartition: Int64], continuation: CheckedContinuation<Void, any Error>) {
        self.offsets = offsets
        self.continuation = continuation
    }

    func finish(_ error: rd_kafka_resp_err_t) {
        switch error {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            continuation.resume()
        case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
            continuation.resume(throwing: KafkaError(
                .rebalanced, error: error,
                "offsets \(offsets) not committed: the group is rebalancing and these records will be redelivered"))
        default:
            continuation.resume(throwing: KafkaError(.commit, error: error, "cannot commit offsets \(offsets)"))
        }
    }
}

/// A commit's result, on librdkafka's background thread: the request's
/// error, else the first partition's. Does nothing that waits.
private let commitResult: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { _, error, offsets, opaque in
    guard let opaque else { return }
    var failure = error
    if failure == RD_KAFKA_RESP_ERR_NO_ERROR, let offsets {
        for index in 0..<Int(offsets.pointee.cnt) where offsets.pointee.elems[index].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            failure = offsets.pointee.elems[index].err
            break
        }
    }
    Unmanaged<PendingCommit>.fromOpaque(opaque).takeRetainedValue().finish(failure)
}
