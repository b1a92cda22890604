import Answerer
import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import TestSupport
import Testing


@Suite("Answerer: refuses what the reducer refuses, with the same reason", .tags(.integration), .serialized)
struct AnswerServiceTests {
    /// Features outside MobileNetV2's [0, 6], NaN and a wrong dimension are
    /// answered FAILED with the reducer's reasons; good features are DONE.
    @Test(.timeLimit(.minutes(1)))
    func absurdFeaturesAreAnsweredAsFailed() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 1) }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        let sent: [(features: [Float], expect: String)] = [
            ([1e30, 1e30, 1e30, 1e30], "features_out_of_range"),
            ([1, 2, 6.5, 4], "features_out_of_range"),
            ([1, -1, 3, 4], "features_out_of_range"),
            ([1, .nan, 3, 4], "non_finite_features"),
            ([1, 2, 3], "malformed_event"),
            ([0, 2, 6, 4], "done"),
        ]
        for (n, item) in sent.enumerated() {
            _ = try await producer.send(topic: topics.features, key: nil, value: try AnswererFixture.features(n + 1, item.features))
        }

        var configuration = AnswerService.Configuration(kafka: kafka)
        configuration.dimension = 4
        let results = try LocalObjectStore(root: Tools.temporaryPath("answers-\(UUID().uuidString.prefix(8))"))
        let answerer = try AnswerService(configuration: configuration, results: results, logger: Logger(label: "test"))
        let running = Task { try await answerer.run() }
        defer { running.cancel() }

        let reader = try KafkaConsumer(configuration: kafka, groupID: "reader", subscription: .group(topics: [topics.results]))
        var outcomes: [String: String] = [:]
        while outcomes.count < sent.count {
            for message in try await reader.poll(upTo: 10, timeout: .milliseconds(200)) {
                let result = try Fruits_V1_ImageResult(serializedBytes: message.value)
                outcomes[result.imageID] = result.status == .done ? "done" : result.reason
            }
        }
        try await reader.close()
        #expect(outcomes == Dictionary(uniqueKeysWithValues: sent.enumerated().map { (AnswererFixture.id($0.offset + 1), $0.element.expect) }))
    }
}
