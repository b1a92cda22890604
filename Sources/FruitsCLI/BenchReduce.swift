import ArgumentParser
import Common
import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Reducer

struct BenchReduce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reduce",
        abstract: "Feature events/s through the reducer (embedded broker, synthetic events) and peak RSS.",
        discussion: """
            The producer stays at most --window events ahead of the reducer, so the embedded broker's \
            ~5 MiB per partition never drops an event. The last line is machine-readable: REDUCE_BENCH {json}.
            """
    )

    @Option(help: "Feature events to reduce (distinct images).")
    var events = 10_000

    @Option(help: "Features per event.")
    var dimension = 1280

    @Option(help: "Partitions of the features topic.")
    var partitions = 6

    @Option(help: "Events the producer may be ahead of the reducer.")
    var window = 3_000

    @Option(help: "Results: a directory or s3://bucket/prefix/ (default: a temporary directory, removed afterwards).")
    var output: String?

    @OptionGroup var storage: StorageOptions

    @Flag(help: "Also solve the PCA and project every part at the end (timed separately).")
    var finalize = false

    func run() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: partitions) }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let location = output ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-reduce-\(UUID().uuidString)").path
        defer { if output == nil { try? FileManager.default.removeItem(atPath: location) } }

        var configuration = ReducerService.Configuration(kafka: kafka)
        configuration.expectedImages = events
        configuration.dimension = dimension
        configuration.modelEvery = nil
        configuration.finalizeWhenDone = finalize
        var logger = Logger(label: "fruits.bench")
        logger.logLevel = .warning
        let reducer = try ReducerService(configuration: configuration, store: try storage.store(location), logger: logger)
        let producer = try KafkaProducer(configuration: kafka)

        let started = ContinuousClock.now
        async let reducing: Void = reducer.run()
        try await produce(to: producer, topic: topics.features, pacedBy: reducer)
        try await reducing
        let seconds = (ContinuousClock.now - started).seconds
        let peak = ProcessStats.peakResidentBytes ?? 0
        print(String(format: "%d events of %d features: %.0f events/s (%.1f s%@), peak RSS %.0f MiB",
                     events, dimension, Double(events) / seconds, seconds, finalize ? ", PCA and projection included" : "",
                     Double(peak) / 1_048_576))
        let json: [String: Any] = ["events": events, "dimension": dimension, "events_per_second": Double(events) / seconds,
                                   "seconds": seconds, "finalize": finalize, "peak_rss_bytes": peak]
        print("REDUCE_BENCH " + String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Synthetic events (distinct ids, five labels, deterministic values), never more than `window` ahead.
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
                event.label = "label-\(n % 5)"
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

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
