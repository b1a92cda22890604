import CRdKafka
import Dispatch
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
            let token = commits.register(PendingCommit(offsets: nextOffsets, continuation: continuation))
            let list = makePartitionList(nextOffsets)  // librdkafka copies it
            defer { rd_kafka_topic_partition_list_destroy(list) }
            // The background queue is served by librdkafka's own thread; this
            // reference to it only needs to live through the call.
            let queue = rd_kafka_queue_get_background(handle.pointer)
            defer { if let queue { rd_kafka_queue_destroy(queue) } }
            let error = queue == nil
                ? RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE
                : rd_kafka_commit_queue(handle.pointer, list, queue, commitResult, UnsafeMutableRawPointer(bitPattern: token))
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                // Refused before it was queued: no result will come.
                PendingCommits.take(token)?.finish(error)
                return
            }
        }
    }
}

/// The commits a consumer has on their way, by the token librdkafka hands
/// back with each result. A consumer that closes waits a little for them,
/// then fails those still out: librdkafka drops a commit the group purges
/// while it shuts down without calling back, and its caller would wait for
/// ever. Whoever takes a commit's token first (its result or the close)
/// resumes its caller, so a caller is resumed exactly once.
final class PendingCommits: Sendable {
    private static let tokens = Atomic<UInt>(1)
    /// Every consumer's, since librdkafka's callback knows only the token.
    private static let all = Mutex<[UInt: (commit: PendingCommit, owner: PendingCommits)]>([:])
    private let mine = Mutex<Set<UInt>>([])
    private let outstanding = DispatchGroup()

    func register(_ commit: PendingCommit) -> UInt {
        let token = Self.tokens.add(1, ordering: .relaxed).oldValue
        outstanding.enter()
        mine.withLock { _ = $0.insert(token) }
        Self.all.withLock { $0[token] = (commit, self) }
        return token
    }

    /// The commit of `token` if nobody took it yet.
    static func take(_ token: UInt) -> PendingCommit? {
        guard let (commit, owner) = all.withLock({ $0.removeValue(forKey: token) }) else { return nil }
        owner.mine.withLock { _ = $0.remove(token) }
        owner.outstanding.leave()
        return commit
    }

    /// Waits up to `timeout` for every commit sent to be answered.
    func waitForAnswers(timeout: Duration) {
        _ = outstanding.wait(timeout: .now() + .nanoseconds(Int(timeout / .nanoseconds(1))))
    }

    /// Fails every commit still out with `.closed`.
    func failAll() {
        for token in mine.withLock({ $0 }) { Self.take(token)?.failClosed() }
    }
}

/// A commit on its way: what resumes its caller when librdkafka answers.
final class PendingCommit: Sendable {
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

    func failClosed() {
        continuation.resume(throwing: KafkaError(.closed, "offsets \(offsets) not committed: the consumer closed before the group coordinator answered"))
    }
}

/// A commit's result, on librdkafka's background thread: the request's
/// error, else the first partition's. Does nothing that waits.
private let commitResult: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { _, error, offsets, opaque in
    // A token the close already failed is gone: nothing to resume.
    guard let opaque, let commit = PendingCommits.take(UInt(bitPattern: opaque)) else { return }
    var failure = error
    if failure == RD_KAFKA_RESP_ERR_NO_ERROR, let offsets {
        for index in 0..<Int(offsets.pointee.cnt) where offsets.pointee.elems[index].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            failure = offsets.pointee.elems[index].err
            break
        }
    }
    commit.finish(failure)
}
