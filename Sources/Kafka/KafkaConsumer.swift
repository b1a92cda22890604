import CRdKafka
import Dispatch
import Synchronization

/// A Kafka consumer: a consumer-group member, or a reader of fixed partitions.
/// Records are read as an `AsyncSequence`; offsets are committed only when the
/// caller says a record is done (`commit`), so a crash replays what was not
/// finished (at-least-once).
///
/// Partition assignments and revocations are published on `rebalances`.
/// What waits for a broker is async and waits on the module's own threads
/// (`KafkaThreads`) or, for commits, on librdkafka's: callers never hop.
public final class KafkaConsumer: Sendable, AsyncSequence {
    public typealias Element = KafkaMessage

    /// Which partitions this consumer reads.
    public enum Subscription: Sendable {
        /// The group coordinator balances the topics' partitions over the
        /// group's members (scaling out, failover).
        case group(topics: [String])
        /// Exactly these partitions, no group membership: nothing to join, so
        /// nothing to wait for. For a process that is itself restarted on
        /// failure and owns its partitions alone (the reducer; `fruits run`'s
        /// extractors). Offsets are still committed under the group id.
        /// The partitions are assigned on the module's threads, leaders
        /// first, after `init` returned; `assign(_:)` adds more.
        case partitions([TopicPartition])
    }

    /// Group membership settings unless the configuration overrides them;
    /// docs/consumer-groups.md says why.
    ///
    /// - `session.timeout.ms` 10 s (librdkafka: 45 s): a crashed member's
    ///   partitions wait this long. Heartbeats run on librdkafka's thread, so
    ///   a busy extractor still sends them; 10 s rides out a broker failover
    ///   on a real cluster and is above the brokers' 6 s minimum.
    /// - `heartbeat.interval.ms` 3 s: a third of the session, as Kafka advises.
    /// For a consumer on the answer path (a person is waiting): an empty
    /// fetch returns after 10 ms rather than librdkafka's 500, the value
    /// librdkafka's latency guide gives as an example ("set to your allowed
    /// maximum latency"). A broker answers a parked fetch as soon as records
    /// arrive anyway; one that holds it for the whole wait (librdkafka's mock
    /// cluster does) would otherwise add the wait to every hop, and an answer
    /// takes three. The cost is up to 100 empty fetches a second per idle
    /// consumer and broker, for the few consumers on the answer path
    /// (docs/answers.md, "Answer latency").
    public static let lowLatencyFetch = (key: "fetch.wait.max.ms", value: "10")

    public static let groupDefaults: [String: String] = [
        "session.timeout.ms": "10000",
        "heartbeat.interval.ms": "3000",
    ]

    public enum Rebalance: Sendable, Equatable {
        case assigned([TopicPartition])
        case revoked([TopicPartition])
    }

    /// Start offsets that mean "the partition's first record" and "after its last".
    public static let beginningOffset = Int64(RD_KAFKA_OFFSET_BEGINNING)
    public static let endOffset = Int64(RD_KAFKA_OFFSET_END)

    public let groupID: String
    public let rebalances: AsyncStream<Rebalance>
    let handle: KafkaHandle
    private let state: RebalanceState
    private let pollQueue = DispatchQueue(label: "kafka-consumer-poll")
    let closed = Atomic<Bool>(false)
    /// Commits sent and not yet answered (`commit`).
    let commits = PendingCommits()
    /// One assignment at a time, on the module's threads.
    private let assigning = Mutex<Void>(())
    /// Why the partitions `init` was given could not be assigned; the next read throws it.
    private let assignmentFailure = Mutex<KafkaError?>(nil)

    /// `configuration` may override the defaults set here
    /// (`auto.offset.reset=earliest`, `enable.auto.commit=false`).
    /// `startOffsets` may name where an assigned partition starts, overriding
    /// the group's committed offset (a reducer resuming from its checkpoint).
    public init(
        configuration: KafkaConfiguration, groupID: String, subscription: Subscription,
        startOffsets: (@Sendable (TopicPartition) -> Int64?)? = nil
    ) throws {
        var configuration = configuration
        configuration["group.id"] = groupID
        var defaults = ["auto.offset.reset": "earliest", "enable.auto.commit": "false", "enable.auto.offset.store": "false"]
        if case .group = subscription { defaults.merge(Self.groupDefaults) { $1 } }
        for (key, value) in defaults { configuration.setDefault(key, value) }

        let (stream, continuation) = AsyncStream.makeStream(of: Rebalance.self)
        let state = RebalanceState(continuation: continuation, startOffsets: startOffsets)
        self.state = state
        self.rebalances = stream
        self.groupID = groupID
        self.handle = try KafkaHandle(type: RD_KAFKA_CONSUMER, configuration: configuration, rebalance: state) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        rd_kafka_poll_set_consumer(handle.pointer)
        switch subscription {
        case .group(let topics):
            let list = makePartitionList(Dictionary(uniqueKeysWithValues: topics.map {
                (TopicPartition(topic: $0, partition: fruits_kafka_partition_unassigned()), Int64(RD_KAFKA_OFFSET_INVALID))
            }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let error = rd_kafka_subscribe(handle.pointer, list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(.client, error: error, "cannot subscribe to \(topics)")
            }
        case .partitions(let partitions):
            guard !partitions.isEmpty else { break }
            KafkaThreads.submit { [self] in
                do { try assignWaiting(partitions) } catch where !closed.load(ordering: .acquiring) {
                    assignmentFailure.withLock { $0 = error as? KafkaError ?? KafkaError(.client, "\(error)") }
                } catch {}  // closed meanwhile: nobody reads any more
            }
        }
    }

    /// Adds `partitions` to a fixed assignment, each starting where
    /// `startOffsets` says, else at the group's committed offset, else per
    /// `auto.offset.reset`. Waits for their leaders (a metadata request of
    /// up to 5 s) on the module's threads.
    public func assign(_ partitions: [TopicPartition]) async throws {
        try await KafkaThreads.run { try self.assignWaiting(partitions) }
    }

    private func assignWaiting(_ partitions: [TopicPartition]) throws {
        try assigning.withLock { _ in try assignNow(partitions) }
    }

    private func assignNow(_ partitions: [TopicPartition]) throws {
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(.closed, "cannot assign \(partitions.sorted()): the consumer is closed") }
        let new = Set(partitions).subtracting(assignment)
        guard !new.isEmpty else { return }
        let list = makePartitionList(Dictionary(uniqueKeysWithValues: new.map {
            ($0, state.startOffsets?($0) ?? Int64(RD_KAFKA_OFFSET_STORED))
        }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        // Leaders first: a partition assigned before the client knows its
        // leader waits for librdkafka's offset-query retry, about a second,
        // before its first fetch. If the broker does not answer, the assignment
        // still stands and librdkafka keeps retrying.
        _ = try? handle.partitions(of: Array(Set(new.map(\.topic))), timeout: .seconds(5))
        if let error = rd_kafka_incremental_assign(handle.pointer, list) {
            defer { rd_kafka_error_destroy(error) }
            throw KafkaError(.client, error: rd_kafka_error_code(error), "cannot assign \(new.sorted())")
        }
        state.assignment.withLock { $0.formUnion(new) }
        state.continuation.yield(.assigned(new.sorted()))
    }

    /// The id of the cluster this consumer reads from; nil if no broker answered in time.
    public func clusterID(timeout: Duration = .seconds(10)) async -> String? {
        let handle = self.handle
        return (try? await KafkaThreads.run { handle.clusterID(timeout: timeout) }) ?? nil
    }

    /// Every partition of `topics`, from the cluster's metadata; a topic the
    /// cluster does not have yet is left out.
    public func partitions(of topics: [String], timeout: Duration = .seconds(10)) async throws -> [TopicPartition] {
        let handle = self.handle
        return try await KafkaThreads.run { try handle.partitions(of: topics, timeout: timeout) }
    }

    /// A consumer nobody closed leaves its group here, blocking the thread
    /// that let it go (up to the session timeout): services `close()` theirs.
    deinit { try? closeWaiting() }

    /// Fails fast when no broker answers; see `KafkaHandle.checkReachable`.
    public func checkReachable(timeout: Duration = .seconds(10)) async throws {
        let handle = self.handle
        try await KafkaThreads.run { try handle.checkReachable(timeout: timeout) }
    }

    /// The partitions this member owns now.
    public var assignment: Set<TopicPartition> { state.assignment.withLock { $0 } }

    /// Waits up to `timeout` for one record; a zero timeout takes a record
    /// already fetched, if any. Serves rebalances meanwhile. Transient broker
    /// errors are absorbed (librdkafka reconnects); nil means nothing arrived
    /// in time. Blocks its thread: for a thread of the caller's own.
    @available(*, noasync, message: "it blocks its thread; use poll(upTo:timeout:linger:), batches(upTo:timeout:) or for try await")
    public func poll(timeout: Duration) throws -> KafkaMessage? {
        if let failure = assignmentFailure.withLock({ failure in defer { failure = nil }; return failure }) { throw failure }
        let deadline = ContinuousClock.now + timeout
        while !closed.load(ordering: .acquiring) {
            let remaining = deadline - ContinuousClock.now
            let slice = Swift.max(Swift.min(remaining, .milliseconds(100)), .zero)
            if let message = rd_kafka_consumer_poll(handle.pointer, slice.milliseconds) {
                defer { rd_kafka_message_destroy(message) }
                let error = message.pointee.err
                if error == RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaMessage(message) }
                if !Self.isTransient(error) { throw KafkaError(.consume, error: error, "consuming \(groupID)") }
            }
            if remaining <= .zero { return nil }
        }
        return nil
    }

    /// Up to `count` records: waits up to `timeout` for the first, then up
    /// to `linger` more for the rest. The waiting happens on this consumer's
    /// poll thread, never on the caller's: a service awaiting records leaves
    /// Swift's cooperative pool free (it has one thread per core).
    public func poll(upTo count: Int, timeout: Duration, linger: Duration = .zero) async throws -> [KafkaMessage] {
        try await withCheckedThrowingContinuation { continuation in
            pollQueue.async {
                continuation.resume(with: Result {
                    guard let first = try self.poll(timeout: timeout) else { return [] }
                    var batch = [first]
                    let deadline = ContinuousClock.now + linger
                    while batch.count < count, let next = try self.poll(timeout: Swift.max(deadline - .now, .zero)) {
                        batch.append(next)
                    }
                    return batch
                })
            }
        }
    }

    static func isTransient(_ error: rd_kafka_resp_err_t) -> Bool {
        switch error {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
             RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__RESOLVE:
            true
        // A subscribed topic that does not exist yet: librdkafka keeps looking,
        // and the member gets its partitions once someone creates it.
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            true
        default:
            false
        }
    }

    /// Each partition's first offset the broker still keeps (its log start,
    /// which retention moves on), asked of the broker.
    public func logStartOffsets(of partitions: [TopicPartition], timeout: Duration = .seconds(5)) async throws -> [TopicPartition: Int64] {
        let handle = self.handle
        return try await KafkaThreads.run { try handle.logStartOffsets(of: partitions, timeout: timeout) }
    }

    /// Records not yet consumed in each assigned partition, from the cached
    /// high watermarks (no broker round trip); partitions not yet fetched are left out.
    public func lag() -> [TopicPartition: Int64] {
        let partitions = Array(assignment)
        guard !partitions.isEmpty else { return [:] }
        let list = makePartitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_position(handle.pointer, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var lag: [TopicPartition: Int64] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            var low: Int64 = 0, high: Int64 = 0
            guard element.offset >= 0,
                  rd_kafka_get_watermark_offsets(handle.pointer, element.topic, element.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0
            else { continue }
            lag[TopicPartition(topic: String(cString: element.topic), partition: element.partition)] = Swift.max(high - element.offset, 0)
        }
        return lag
    }

    /// Leaves the group (its partitions move to the other members) and
    /// stops; waits for librdkafka (up to the session timeout) on the
    /// module's threads.
    public func close() async throws {
        try await KafkaThreads.run { try self.closeWaiting() }
    }

    private func closeWaiting() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pollQueue.sync {}
        // Commits sent before the close get their answers, within reason.
        commits.waitForAnswers(timeout: .seconds(5))
        let error = assigning.withLock { _ in rd_kafka_consumer_close(handle.pointer) }
        commits.failAll()
        state.continuation.finish()
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(.client, error: error, "closing consumer") }
    }

    public func makeAsyncIterator() -> Iterator { Iterator(consumer: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer

        /// The next record; nil once the consumer is closed or the task cancelled.
        public mutating func next() async throws -> KafkaMessage? {
            let consumer = self.consumer
            let cancelled = Atomic<Bool>(false)
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    consumer.pollQueue.async {
                        do {
                            while !cancelled.load(ordering: .acquiring) {
                                if let message = try consumer.poll(timeout: .milliseconds(200)) {
                                    return continuation.resume(returning: message)
                                }
                                if consumer.closed.load(ordering: .acquiring) { break }
                            }
                            continuation.resume(returning: nil)
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                }
            } onCancel: {
                cancelled.store(true, ordering: .releasing)
            }
        }
    }
}

/// What the rebalance callback needs; reached through the client's `KafkaClientContext`.
final class RebalanceState: Sendable {
    let continuation: AsyncStream<KafkaConsumer.Rebalance>.Continuation
    let startOffsets: (@Sendable (TopicPartition) -> Int64?)?
    let assignment = Mutex<Set<TopicPartition>>([])

    init(continuation: AsyncStream<KafkaConsumer.Rebalance>.Continuation, startOffsets: (@Sendable (TopicPartition) -> Int64?)?) {
        self.continuation = continuation
        self.startOffsets = startOffsets
    }
}

/// Runs inside `rd_kafka_consumer_poll`. Eager protocols replace the whole
/// assignment; cooperative ones add or remove the listed partitions.
private let rebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { consumer, error, partitions, opaque in
    guard let consumer, let partitions, let opaque,
          let state = Unmanaged<KafkaClientContext>.fromOpaque(opaque).takeUnretainedValue().rebalance
    else { return }
    let listed = partitions.pointee.topicPartitions
    let cooperative = String(cString: rd_kafka_rebalance_protocol(consumer)) == "COOPERATIVE"
    let assigned = error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
    if assigned, let startOffsets = state.startOffsets {
        for (index, topicPartition) in listed.enumerated() {
            if let offset = startOffsets(topicPartition) { partitions.pointee.elems[index].offset = offset }
        }
    }
    switch (cooperative, assigned) {
    case (true, true): rd_kafka_error_destroy(rd_kafka_incremental_assign(consumer, partitions))
    case (true, false): rd_kafka_error_destroy(rd_kafka_incremental_unassign(consumer, partitions))
    case (false, true): rd_kafka_assign(consumer, partitions)
    case (false, false): rd_kafka_assign(consumer, nil)
    }
    state.assignment.withLock { assigned ? $0.formUnion(listed) : $0.subtract(listed) }
    state.continuation.yield(assigned ? .assigned(listed) : .revoked(listed))
}
