import Common
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The extractor of the pipeline: a consumer-group member that turns image
/// events into feature events. A batch's offsets are committed only after
/// its features (and dead letters) are acknowledged, so a crash replays the
/// batch rather than losing it; downstream deduplicates by image id.
public final class ExtractionService: Service, Sendable {
    public struct Configuration: Sendable {
        public var kafka: KafkaConfiguration
        public var topics = PipelineTopics()
        public var groupID = "fruits-extractors"
        public var batchSize = 8
        /// How long a partial batch waits for more records.
        public var maxWait: Duration = .milliseconds(200)

        public init(kafka: KafkaConfiguration) { self.kafka = kafka }
    }

    private let configuration: Configuration
    private let worker: InferenceWorker
    private let fetcher: ObjectFetcher
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let logger: Logger
    private let processed = Counter(label: "fruits_images_processed_total")
    private let batchDuration = Timer(label: "fruits_batch_duration_seconds")
    private let lag = Gauge(label: "fruits_consumer_lag", dimensions: [("group", "fruits-extractors")])

    public init(configuration: Configuration, worker: InferenceWorker, fetcher: ObjectFetcher, logger: Logger) throws {
        self.configuration = configuration
        self.worker = worker
        self.fetcher = fetcher
        self.logger = logger
        producer = try KafkaProducer(configuration: configuration.kafka)
        // Each record costs milliseconds of inference, so librdkafka's default
        // prefetch (100,000 records) would queue a rebalance behind minutes of
        // work and get this member evicted; keep a few seconds of work ahead.
        var consumerConfiguration = configuration.kafka
        if consumerConfiguration["queued.min.messages"] == nil {
            consumerConfiguration["queued.min.messages"] = "\(max(64 * configuration.batchSize, 256))"
        }
        if consumerConfiguration["queued.max.messages.kbytes"] == nil {
            consumerConfiguration["queued.max.messages.kbytes"] = "1024"
        }
        consumer = try KafkaConsumer(configuration: consumerConfiguration, groupID: configuration.groupID,
                                     topics: [configuration.topics.images])
    }

    public func checkReachable(timeout: Duration) throws {
        try producer.checkReachable(timeout: timeout)
    }

    /// Runs until graceful shutdown (SIGTERM) or cancellation: the batch in
    /// hand is finished and committed, then the member leaves the group.
    public func run() async throws {
        logger.info("extractor joined group", metadata: ["group": "\(configuration.groupID)", "model": "\(worker.modelVersion)"])
        var records = 0
        var firstRecord: ContinuousClock.Instant?
        defer {
            try? consumer.close()
            try? producer.close(timeout: .seconds(10))
            let busy = firstRecord.map { ContinuousClock.now - $0 } ?? .zero
            logger.info("extractor left group", metadata: ["records": "\(records)", "since_first_record": "\(busy)"])
        }
        // One batch's deliveries overlap the next batch's inference; its
        // offsets are committed once they are acknowledged, in batch order.
        var delivering: (batch: [KafkaMessage], deliveries: Task<Void, any Error>)?
        func settle() async throws {
            guard let previous = delivering else { return }
            delivering = nil
            try await previous.deliveries.value
            commit(previous.batch)
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch = try collectBatch()
            guard !batch.isEmpty else {
                try await settle()
                continue
            }
            if firstRecord == nil { firstRecord = .now }
            records += batch.count
            let started = ContinuousClock.now
            let sends = try await process(batch)
            try await settle()
            delivering = (batch, Task { [producer] in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for send in sends {
                        group.addTask { try await producer.send(topic: send.topic, key: send.key, value: send.value) }
                    }
                    try await group.waitForAll()
                }
            })
            batchDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            lag.record(consumer.lag().values.reduce(0, +))
        }
        try await settle()
    }

    private func collectBatch() throws -> [KafkaMessage] {
        guard let first = try consumer.poll(timeout: .milliseconds(500)) else { return [] }
        var batch = [first]
        let deadline = ContinuousClock.now + configuration.maxWait
        while batch.count < configuration.batchSize, ContinuousClock.now < deadline {
            guard let next = try consumer.poll(timeout: deadline - .now) else { break }
            batch.append(next)
        }
        return batch
    }

    /// The records a batch produces: feature events and dead letters.
    private func process(_ batch: [KafkaMessage]) async throws -> [(topic: String, key: [UInt8], value: [UInt8])] {
        var failures: [Fruits_V1_DeadLetter] = []
        var work: [(message: KafkaMessage, event: Fruits_V1_ImageEvent)] = []
        for message in batch {
            if let event = try? Fruits_V1_ImageEvent(serializedBytes: message.value), !event.uri.isEmpty {
                work.append((message, event))
            } else {
                failures.append(DeadLetters.make(message: message, event: nil, reason: "malformed_event",
                                                 detail: "not a fruits.v1.ImageEvent with a uri"))
            }
        }

        let fetched = await fetchAll(work.map(\.event.uri))
        var decodable: [(message: KafkaMessage, event: Fruits_V1_ImageEvent, jpeg: [UInt8])] = []
        for ((message, event), result) in zip(work, fetched) {
            switch result {
            case .success(let jpeg): decodable.append((message, event, jpeg))
            case .failure(let error):
                failures.append(DeadLetters.make(message: message, event: event, reason: "unreadable_object", detail: "\(error)"))
            }
        }

        let results = try await worker.features(ofJPEGs: decodable.map(\.jpeg))
        let extractedAt = EventIdentity.nowMicros()
        var sends: [(topic: String, key: [UInt8], value: [UInt8])] = []
        for (item, result) in zip(decodable, results) {
            switch result {
            case .success(let features):
                var output = Fruits_V1_FeatureEvent()
                output.imageID = item.event.imageID
                output.uri = item.event.uri
                output.label = item.event.label
                output.source = item.event.source
                output.ingestedAtMicros = item.event.ingestedAtMicros
                output.extractedAtMicros = extractedAt
                output.modelVersion = worker.modelVersion
                output.features = features
                sends.append((configuration.topics.features, Array(item.event.imageID.utf8), try output.serializedBytes()))
            case .failure(let error):
                failures.append(DeadLetters.make(message: item.message, event: item.event, reason: error.reason, detail: error.description))
            }
        }
        processed.increment(by: results.count { (try? $0.get()) != nil })
        for failure in failures {
            Counter(label: "fruits_images_failed_total", dimensions: [("reason", failure.reason)]).increment()
            logger.warning("dead letter", metadata: ["uri": "\(failure.uri)", "reason": "\(failure.reason)", "detail": "\(failure.message)"])
            sends.append((configuration.topics.deadLetters, Array(failure.imageID.utf8), try failure.serializedBytes()))
        }

        return sends
    }

    /// Fetches concurrently; transient failures are retried here until they
    /// pass (or shutdown), since giving up would lose the image.
    private func fetchAll(_ uris: [String]) async -> [Result<[UInt8], any Error>] {
        await withTaskGroup(of: (Int, Result<[UInt8], any Error>).self) { group in
            for (index, uri) in uris.enumerated() {
                group.addTask { [fetcher, logger] in
                    var delay = Duration.milliseconds(200)
                    while true {
                        do { return (index, .success(try fetcher.fetch(uri))) } catch let error as ObjectFetcher.FetchError {
                            return (index, .failure(error))
                        } catch {
                            if Task.isCancelled { return (index, .failure(error)) }
                            logger.warning("fetch failed, retrying", metadata: ["uri": "\(uri)", "error": "\(error)"])
                            try? await Task.sleep(for: delay)
                            delay = min(delay * 2, .seconds(10))
                        }
                    }
                }
            }
            var results = [Result<[UInt8], any Error>](repeating: .failure(CancellationError()), count: uris.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    private func commit(_ batch: [KafkaMessage]) {
        var next: [TopicPartition: Int64] = [:]
        for message in batch { next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1) }
        do {
            try consumer.commit(next)
        } catch {
            // A rebalance took the partitions: the new owner replays from the
            // last commit and the reducer drops the duplicates.
            logger.warning("commit failed; records will be redelivered", metadata: ["error": "\(error)"])
        }
    }
}

public enum DeadLetters {
    public static func make(message: KafkaMessage, event: Fruits_V1_ImageEvent?, reason: String, detail: String) -> Fruits_V1_DeadLetter {
        var letter = Fruits_V1_DeadLetter()
        letter.imageID = event?.imageID ?? ""
        letter.uri = event?.uri ?? ""
        letter.reason = reason
        letter.message = detail
        letter.stage = "extract"
        letter.topic = message.topic
        letter.partition = message.partition
        letter.offset = message.offset
        if event == nil { letter.original = Data(message.value) }
        letter.failedAtMicros = EventIdentity.nowMicros()
        return letter
    }
}
