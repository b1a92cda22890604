import Common
import Events
import Kafka
import Logging
import Metrics
import ObjectStorage
import Results
import ServiceLifecycle

/// Answers every image: reads the feature and dead-letter topics as a
/// consumer group (`fruits-answerers`: add members to answer faster), and
/// for each record publishes an `ImageResult` to the results topic with the
/// classifier of the latest published model, which it picks up from the
/// results store (`pca/version`, polled every `modelRefresh`).
///
/// It is apart from the reducer on purpose: a reducer's flush or model
/// solve takes seconds, and a person waiting for an answer must not wait
/// for them. Offsets are committed once a batch's answers are acknowledged
/// (in order, off the reading loop), never past an answer that was not, so a
/// crash or a results-topic outage answers again rather than never.
public final class AnswerService: Service, Sendable {
    public struct Configuration: Sendable {
        public var kafka: KafkaConfiguration
        public var topics = PipelineTopics()
        public var groupID = PipelineGroups.answerers
        /// How often `pca/version` is read for a newer model.
        public var modelRefresh: Duration = .seconds(2)
        public var dimension = 1280
        /// Whether an answer's neighbours carry their image URIs (off for
        /// deployments that must not reveal where the references are).
        public var neighbourURIs = true

        public init(kafka: KafkaConfiguration) { self.kafka = kafka }
    }

    private let configuration: Configuration
    private let validation: FeatureEventValidation
    private let results: any ObjectStore
    private let logger: Logger
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let lag = Gauge(label: "fruits_consumer_lag", dimensions: [("group", PipelineGroups.answerers)])

    public init(configuration: Configuration, results: any ObjectStore, logger: Logger) throws {
        self.configuration = configuration
        validation = FeatureEventValidation(dimension: configuration.dimension)
        self.results = results
        self.logger = logger
        var consumerConfiguration = configuration.kafka
        consumerConfiguration.setDefault(KafkaConsumer.lowLatencyFetch)
        consumer = try KafkaConsumer(configuration: consumerConfiguration, groupID: configuration.groupID,
                                     subscription: .group(topics: [configuration.topics.features, configuration.topics.deadLetters]))
        var producerConfiguration = configuration.kafka
        producerConfiguration.setDefault(KafkaProducer.lowLatency)
        producer = try KafkaProducer(configuration: producerConfiguration)
    }

    /// Reads the published model's version once: results this answerer
    /// cannot read (no credentials, no such bucket, no permission) fail here,
    /// at start, instead of every answer saying "no model yet".
    public func checkResults() async throws {
        do { _ = try await NearestNeighbours.latestVersion(in: results) } catch {
            throw UnreadableResults(description: "cannot read the published model in \(results.location): \(error)")
        }
    }

    public struct UnreadableResults: Error, CustomStringConvertible {
        public let description: String
    }

    public func checkReachable(timeout: Duration) async throws { try await consumer.checkReachable(timeout: timeout) }

    public func run() async throws {
        let committing: Task<Bool, Never>?
        do {
            committing = try await answerAll()
        } catch {
            await close(committing: nil)
            throw error
        }
        await close(committing: committing)
    }

    /// Stopping: the answers still unsent get the producer's flush (up to
    /// 10 s); closing it fails the rest, so the commits made now cover only
    /// what was delivered. Then the consumer leaves its group.
    private func close(committing: Task<Bool, Never>?) async {
        try? await producer.close(timeout: .seconds(10))
        _ = await committing?.value
        try? await consumer.close()
    }

    /// Answers until shutdown; returns the last batch's commit, still running.
    private func answerAll() async throws -> Task<Bool, Never>? {
        var answers = ImageAnswers(producer: producer, topic: configuration.topics.results, logger: logger, neighbourURIs: configuration.neighbourURIs)
        await refreshClassifier(of: &answers)  // before the first answer: a published model must not be missed
        var lastRefresh = ContinuousClock.now
        var committing: Task<Bool, Never>?
        var batches = 0
        for try await batch in consumer.batches(upTo: 500, timeout: .milliseconds(200)) {
            if Task.isShuttingDownGracefully { break }
            if ContinuousClock.now - lastRefresh >= configuration.modelRefresh {
                lastRefresh = .now
                await refreshClassifier(of: &answers)
            }
            guard !batch.isEmpty else { continue }
            // Uploads first: a person waits for those; a backfill's answers only need to exist.
            let records = batch.map(judge)
            answer(records.filter { $0.source == .upload }, with: &answers)
            answer(records.filter { $0.source != .upload }, with: &answers)
            committing = commitOnceAcknowledged(batch, answers: answers.acknowledged(), after: committing)
            lag.record(consumer.lag().values.reduce(0, +))
            batches += 1
            if batches % 16 == 0 { _ = await committing?.value }  // a broker that stops acknowledging stops the reading
        }
        return committing
    }

    /// Commits the batch's offsets once its answers are acknowledged, after
    /// the batches before it (`previous`), without holding up the next
    /// batch: waiting here made every answer behind it wait for a broker
    /// round trip. Once one batch's answers were not all delivered, neither
    /// it nor any later batch is committed (a later offset would skip it):
    /// they are answered again after a restart or rebalance. True while
    /// every batch so far was delivered.
    private func commitOnceAcknowledged(_ batch: [KafkaMessage], answers sent: Task<Bool, Never>,
                                        after previous: Task<Bool, Never>?) -> Task<Bool, Never> {
        var next: [TopicPartition: Int64] = [:]
        for message in batch { next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1) }
        return Task { [consumer, logger, next] in
            guard await previous?.value ?? true, await sent.value else { return false }
            do { try await consumer.commit(next) } catch {
                logger.warning("commit failed; these images will be answered again", metadata: ["error": "\(error)"])
            }
            return true
        }
    }

    /// What a record is to the answerer: features to classify, or a failure to answer as such.
    private enum Record {
        case features(Fruits_V1_FeatureEvent)
        case failure(Fruits_V1_DeadLetter)

        var source: Fruits_V1_Source {
            switch self {
            case .features(let event): event.source
            case .failure(let letter): letter.source
            }
        }
    }

    /// A dead letter, or a feature event as the reducer judges it: what it
    /// refuses fails here too, with the same reason. A record without a
    /// usable image id has nobody to answer (`ImageAnswers` skips it); the
    /// reducer dead-letters it.
    private func judge(_ message: KafkaMessage) -> Record {
        guard message.topic != configuration.topics.deadLetters else {
            return .failure((try? Fruits_V1_DeadLetter(serializedBytes: message.value)) ?? Fruits_V1_DeadLetter())
        }
        let record = RecordOrigin(topic: message.topic, partition: message.partition, offset: message.offset, value: message.value)
        switch validation.judge(record, stage: .answer) {
        case .usable(let event, _): return .features(event)
        case .refused(let letter): return .failure(letter)
        }
    }

    /// Answers records: failures at once, then the usable features classified together.
    private func answer(_ records: [Record], with answers: inout ImageAnswers) {
        var classifiable: [Fruits_V1_FeatureEvent] = []
        for record in records {
            switch record {
            case .features(let event): classifiable.append(event)
            case .failure(let letter): answers.answer(letter)
            }
        }
        answers.answer(classifiable)
    }

    /// Loads the latest published classifier if it is newer than the one in
    /// use; a failure keeps the current one and is retried at the next refresh.
    private func refreshClassifier(of answers: inout ImageAnswers) async {
        let inUse = answers.classifier?.model.version ?? 0
        do {
            guard let latest = try await NearestNeighbours.latestVersion(in: results), latest > inUse else { return }
            let loaded = try await AnsweringClassifier.load(version: latest, from: results, dimension: configuration.dimension)
            answers.use(loaded)
            logger.info("answering with model", metadata: ["version": "\(latest)", "classifier": "\(loaded.kind.rawValue)", "references": "\(loaded.count)"])
        } catch {
            logger.warning("could not load the latest model; answering with the one in use", metadata: ["error": "\(error)"])
        }
    }
}
