import Common
import Events
import Foundation
import Kafka
import Logging
import Metrics
import ObjectStorage
import ServiceLifecycle
import Synchronization

/// The extractor of the pipeline: a consumer-group member that turns image
/// events into feature events. A batch's offsets are committed only after
/// its features (and dead letters) are acknowledged, so a crash replays the
/// batch rather than losing it; downstream deduplicates by image id.
///
/// Uploads arrive on their own topic, read by a second member in its own
/// group, in a lane of their own: their batches are inferred before every
/// backfill batch and delivered without waiting for any, so a person's photo
/// never waits for the backfill.
public final class ExtractionService: Service, Sendable {
    public struct Configuration: Sendable {
        public var kafka: KafkaConfiguration
        public var topics = PipelineTopics()
        public var groupID = PipelineGroups.extractors
        /// Also serve `topics.liveImages` (in group mode only), first.
        public var servesLiveImages = true
        public var liveGroupID = PipelineGroups.liveExtractors
        /// nil: join `groupID` and share `topics.images` with its members;
        /// else read exactly these partitions of it (no group membership).
        public var partitions: [Int32]?
        /// Records taken per round; nil: a few per inference worker (8 forward
        /// passes each, at least 16), so every worker has work while the
        /// previous round's events are delivered.
        public var recordsPerBatch: Int?
        /// How long a partial batch waits for more records; zero takes what
        /// is queued (the workers would otherwise wait too).
        public var maxWait: Duration = .zero
        /// Batches fetched or inferred at once in each lane (uploads, backfill):
        /// while one infers, the next is fetched. Memory holds this many
        /// batches of photos per lane. Three measured
        /// the same as two for 600 photos S3 to S3 at 30 ms per request: there
        /// the loopback test server (one Python process) is the limit.
        public var batchesInHand = 2
        /// Whether the backfill consumer also uses `KafkaConsumer.lowLatencyFetch`:
        /// for a run that starts reading before its images are produced and
        /// ends when the last is done (`fruits run`).
        public var lowLatencyBackfill = false
        /// How long S3's refusals of the service (bad credentials, access
        /// denied to every object) are retried before the service gives up
        /// (credentials being rotated, a role still propagating).
        public var accessDeniedPatience: Duration = .seconds(20)
        /// Tries of an object S3 or the file system refuses (missing,
        /// archived, denied to it alone, not a regular file) before its
        /// image is dead-lettered (`ImageFetch`).
        public var objectAttempts = 3
        /// How each lane decodes its photos (docs/phone-photos.md): uploads as
        /// the phone showed them, at the reduced scale a person need not wait
        /// for; backfills as the seed did, so their features stay comparable.
        public var uploadDecoding = DecodeOptions.upload
        public var backfillDecoding = DecodeOptions.seed
        /// Bytes of fetched photos held at once by both lanes (`FetchBudget`),
        /// at least the fetcher's object limit; nil: unbounded.
        public var fetchMemory: Int?

        public init(kafka: KafkaConfiguration) { self.kafka = kafka }

        var subscription: KafkaConsumer.Subscription {
            guard let partitions else { return .group(topics: [topics.images]) }
            return .partitions(partitions.map { TopicPartition(topic: topics.images, partition: $0) })
        }
    }

    private let configuration: Configuration
    private let recordsPerBatch: Int
    private let pool: InferencePool
    /// What each image becomes: features or a dead letter.
    private let processing: ImageProcessing
    private let consumer: KafkaConsumer
    private let liveConsumer: KafkaConsumer?
    private let producer: KafkaProducer
    private let logger: Logger
    private let batchDuration = Timer(label: "fruits_batch_duration_seconds")
    private let lag = Gauge(label: "fruits_consumer_lag", dimensions: [("group", PipelineGroups.extractors)])

    public init(configuration: Configuration, pool: InferencePool, fetcher: ObjectFetcher, logger: Logger) throws {
        self.configuration = configuration
        self.recordsPerBatch = configuration.recordsPerBatch
            ?? max(16, 8 * pool.configuration.workers * pool.configuration.extractor.batchSize)
        self.pool = pool
        self.logger = logger
        processing = ImageProcessing(
            features: pool,
            fetch: ImageFetch(fetcher: fetcher, objectAttempts: configuration.objectAttempts,
                              accessDeniedPatience: configuration.accessDeniedPatience, logger: logger),
            fetchBudget: configuration.fetchMemory.map { FetchBudget(capacity: max($0, fetcher.maxBytes)) },
            topics: configuration.topics, uploadDecoding: configuration.uploadDecoding,
            backfillDecoding: configuration.backfillDecoding, logger: logger)
        // One producer for both lanes, lingering 1 ms: see `KafkaProducer.lowLatency`.
        var producerConfiguration = configuration.kafka
        producerConfiguration.setDefault(KafkaProducer.lowLatency)
        producer = try KafkaProducer(configuration: producerConfiguration)
        // Each record costs milliseconds of inference, so librdkafka's default
        // prefetch (100,000 records) would queue a rebalance behind minutes of
        // work. In librdkafka 2.0 the limits count the consumer's whole queue
        // (every partition forwards into it), and a partition that finds it
        // above `queued.min.messages` looks again only after
        // `fetch.error.backoff.ms` (500 ms). With 64 a two-worker member drained
        // its queue between looks and idled half a second every two
        // (`fruits run`: 15 % of a 2,000-photo run); 500 records are 2-4 s of
        // work, and a fetch of about 160 per partition refills them in time.
        var consumerConfiguration = configuration.kafka
        consumerConfiguration.setDefault("queued.min.messages", "500")
        consumerConfiguration.setDefault("queued.max.messages.kbytes", "256")
        if configuration.lowLatencyBackfill { consumerConfiguration.setDefault(KafkaConsumer.lowLatencyFetch) }
        consumer = try KafkaConsumer(configuration: consumerConfiguration, groupID: configuration.groupID,
                                     subscription: configuration.subscription)
        var liveConfiguration = consumerConfiguration
        liveConfiguration.setDefault(KafkaConsumer.lowLatencyFetch)
        liveConsumer = configuration.servesLiveImages && configuration.partitions == nil
            ? try KafkaConsumer(configuration: liveConfiguration, groupID: configuration.liveGroupID,
                                subscription: .group(topics: [configuration.topics.liveImages]))
            : nil
    }

    public func checkReachable(timeout: Duration) async throws {
        try await producer.checkReachable(timeout: timeout)
    }

    /// Runs until graceful shutdown (SIGTERM) or cancellation: the batch in
    /// hand is finished and committed, then the member leaves the group.
    public func run() async throws {
        logger.info("extractor started", metadata: [
            "group": "\(configuration.groupID)", "partitions": "\(configuration.partitions.map { "\($0)" } ?? "balanced by the group")",
            "workers": "\(pool.configuration.workers)", "model": "\(pool.modelVersion)"])
        let rebalances = Task { [consumer, logger] in
            for await change in consumer.rebalances {
                switch change {
                case .assigned(let partitions): logger.info("partitions assigned", metadata: ["partitions": "\(partitions)"])
                case .revoked(let partitions): logger.info("partitions revoked", metadata: ["partitions": "\(partitions)"])
                }
            }
        }
        let reading = ReadingStats()
        defer {
            rebalances.cancel()
            let busy = reading.firstRecord.map { ContinuousClock.now - $0 } ?? .zero
            logger.info("extractor stopped", metadata: ["records": "\(reading.records)", "since_first_record": "\(busy)"])
        }
        // A lane per consumer, uploads' and backfill's: each reads its records
        // and starts their batches in one task, and delivers them in order in
        // another. The lanes share the inference pool, which serves uploads
        // first, so a photo never waits for a backfill batch to be delivered.
        do {
            try await ConcurrentMap.run(lanes.map { lane in { try await self.run(lane, stats: reading) } })
        } catch {
            await closeClients()
            throw error
        }
        await closeClients()
    }

    /// Leaves the groups and flushes the features still queued (up to 10 s).
    private func closeClients() async {
        try? await liveConsumer?.close()
        try? await consumer.close()
        try? await producer.close(timeout: .seconds(10))
    }

    /// A consumer and the inference priority of its images.
    private struct Lane: Sendable {
        let consumer: KafkaConsumer
        let priority: InferencePool.Priority
    }

    private var lanes: [Lane] {
        [Lane(consumer: consumer, priority: .backfill)] + (liveConsumer.map { [Lane(consumer: $0, priority: .interactive)] } ?? [])
    }

    /// One consumer's lane: several batches are in hand, so the workers never
    /// wait for a fetch or a read; a batch's deliveries overlap the next one's
    /// inference, and its offsets are committed once they are acknowledged.
    private func run(_ lane: Lane, stats: ReadingStats) async throws {
        let inHand = BatchesInHand<StartedBatch>(capacity: configuration.batchesInHand)
        do {
            try await ConcurrentMap.run([
                // Either side ending lets the other end: no batch comes, or none is taken.
                { try await inHand.finishing { try await self.read(lane, into: inHand, stats: stats) } },
                { try await inHand.finishing { try await self.deliver(from: inHand) } },
            ])
        } catch {
            for started in await inHand.drain() { started.work.cancel() }
            throw error
        }
    }

    /// Reads until graceful shutdown or cancellation, starting each batch as it arrives.
    private func read(_ lane: Lane, into inHand: BatchesInHand<StartedBatch>, stats: ReadingStats) async throws {
        var unassignedSince: ContinuousClock.Instant? = .now
        await inHand.waitForRoom()
        for try await batch in lane.consumer.batches(upTo: recordsPerBatch, timeout: .milliseconds(250), linger: configuration.maxWait) {
            guard !Task.isShuttingDownGracefully else { break }
            guard !batch.isEmpty else {
                if lane.consumer === consumer { noticeMissingPartitions(since: &unassignedSince) }
                continue
            }
            stats.read(batch.count)
            await inHand.add(start(batch, from: lane.consumer, priority: lane.priority))
            await inHand.waitForRoom()
        }
    }

    /// Delivers the batches in hand until the reader is done and they are all
    /// delivered.
    private func deliver(from inHand: BatchesInHand<StartedBatch>) async throws {
        var delivery = OrderedDelivery(service: self)
        while true {
            var next = await inHand.nextIfAny()
            if next == nil {
                try await delivery.settle()  // nothing to send first: commit what is acknowledged now
                next = await inHand.next()
            }
            guard let started = next else { return }
            try await delivery.send(started)
            await inHand.release()
        }
    }

    /// Sends each batch's records, and commits a batch's offsets once its
    /// sends are acknowledged: after the next batch's sends have left (their
    /// acknowledgements overlap), or when nothing follows.
    private struct OrderedDelivery {
        let service: ExtractionService
        private var unsettled: (started: StartedBatch, deliveries: Task<Void, any Error>)?

        init(service: ExtractionService) { self.service = service }

        mutating func send(_ started: StartedBatch) async throws {
            let sends = try await started.work.value
            // Sent before the previous batch is settled: a batch's features do not
            // wait for the acknowledgements of the one before.
            let deliveries = Task { [producer = service.producer] in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for send in sends {
                        group.addTask { try await producer.send(topic: send.topic, key: send.key, value: send.value) }
                    }
                    try await group.waitForAll()
                }
            }
            try await settle()
            unsettled = (started, deliveries)
            service.delivered(started)
        }

        mutating func settle() async throws {
            guard let previous = unsettled else { return }
            unsettled = nil
            try await previous.deliveries.value
            await service.commit(previous.started.batch, on: previous.started.source)
        }
    }

    private func delivered(_ started: StartedBatch) {
        batchDuration.recordNanoseconds((ContinuousClock.now - started.started).nanoseconds)
        lag.record(consumer.lag().values.reduce(0, +) + (liveConsumer?.lag().values.reduce(0, +) ?? 0))
    }

    /// A batch being fetched and inferred.
    private struct StartedBatch: Sendable {
        let batch: [KafkaMessage]
        let source: KafkaConsumer
        let started: ContinuousClock.Instant
        let work: Task<[ImageProcessing.Output], any Error>
    }

    private func start(_ batch: [KafkaMessage], from source: KafkaConsumer, priority: InferencePool.Priority) -> StartedBatch {
        let records = batch.map { RecordOrigin(topic: $0.topic, partition: $0.partition, offset: $0.offset, value: $0.value) }
        return StartedBatch(batch: batch, source: source, started: .now,
                            work: Task { [processing] in try await processing.process(records, priority: priority) })
    }

    /// Says every 30 s while this member owns no partition: on a real cluster
    /// that is most often a topic nobody created.
    private func noticeMissingPartitions(since: inout ContinuousClock.Instant?) {
        guard consumer.assignment.isEmpty else {
            since = .now
            return
        }
        guard let start = since, ContinuousClock.now - start >= .seconds(30) else { return }
        logger.notice("no partitions assigned yet; waiting", metadata: [
            "topic": "\(configuration.topics.images)", "hint": "does the topic exist? fruits topics create"])
        since = .now
    }

    private func commit(_ batch: [KafkaMessage], on consumer: KafkaConsumer) async {
        var next: [TopicPartition: Int64] = [:]
        for message in batch { next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1) }
        do {
            try await consumer.commit(next)
        } catch {
            // A rebalance took the partitions: the new owner replays from the
            // last commit and the reducer drops the duplicates.
            logger.warning("commit failed; records will be redelivered", metadata: ["error": "\(error)"])
        }
    }
}

/// What the reader took, for the stop log line.
private final class ReadingStats: Sendable {
    private let state = Mutex<(records: Int, firstRecord: ContinuousClock.Instant?)>((0, nil))

    var records: Int { state.withLock { $0.records } }
    var firstRecord: ContinuousClock.Instant? { state.withLock { $0.firstRecord } }

    func read(_ count: Int) {
        state.withLock { state in
            state.records += count
            if state.firstRecord == nil { state.firstRecord = .now }
        }
    }
}
