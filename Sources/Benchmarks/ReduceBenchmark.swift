import Common
import Events
import Kafka
import Logging
import ObjectStorage
import Reducer

/// Feature events per second through the reducer: synthetic events (distinct
/// ids, five labels, deterministic values) produced to an embedded broker
/// while a `ReducerService` reduces them into `store`.
public struct ReduceBenchmark: Sendable {
    public struct Result: Sendable {
        public let events: Int
        public let seconds: Double
        public let peakResidentBytes: Int
        /// Labelled references the classifier holds at the end.
        public let references: Int
        public var eventsPerSecond: Double { Double(events) / seconds }
    }

    public var events = 10_000
    public var dimension = 1280
    public var partitions = 6
    /// Events the producer may be ahead of the reducer: the embedded broker
    /// keeps ~5 MiB per partition and would drop what runs further ahead.
    public var window = 3_000
    /// Also solve the PCA and project every part at the end.
    public var finalize = false
    /// Every event an upload with a label of its own, as a flood of
    /// uploads with free-text labels sends them: none may become a reference.
    public var labelFlood = false

    public init() {}

    public func run(store: any ObjectStore) async throws -> Result {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: partitions) }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)

        var configuration = ReducerService.Configuration(kafka: kafka)
        configuration.expectedImages = events
        configuration.dimension = dimension
        configuration.modelEvery = nil
        configuration.finalizeWhenDone = finalize
        var logger = Logger(label: "fruits.bench")
        logger.logLevel = .warning
        let reducer = try await ReducerService(configuration: configuration, store: store, logger: logger)
        let producer = try KafkaProducer(configuration: kafka)

        let started = ContinuousClock.now
        async let reducing: Void = reducer.run()
        try await produce(to: producer, topic: topics.features, pacedBy: reducer)
        try await reducing
        return Result(events: events, seconds: (ContinuousClock.now - started).seconds,
                      peakResidentBytes: ProcessStats.peakResidentBytes ?? 0, references: await reducer.referenceCount)
    }

    private func produce(to producer: KafkaProducer, topic: String, pacedBy reducer: ReducerService) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for n in 0..<events {
                while n - reducer.imagesAccounted >= window { try await Task.sleep(for: .milliseconds(5)) }
                if inFlight >= 256 {
                    try await group.next()
                    inFlight -= 1
                }
                var event = Fruits_V1_FeatureEvent()
                event.imageID = String(format: "%032llx", UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
                event.label = labelFlood ? "flood-\(n)" : "label-\(n % 5)"
                event.source = labelFlood ? .upload : .backfill
                event.uri = "bench://\(n)"
                event.features = (0..<dimension).map { Float(($0 &* 31 &+ n &* 17) % 1000) / 1000 }
                let value: [UInt8] = try event.serializedBytes()
                // Keyed, so events spread over the partitions (null keys stick to one partition at a time).
                let key = Array(event.imageID.utf8)
                group.addTask { _ = try await producer.send(topic: topic, key: key, value: value) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
    }
}
