import Events
import Foundation
import Kafka
import ObjectStorage

/// What an answerer test feeds: the embedded cluster with the pipeline's
/// topics (one partition each, so records are read in the order sent), a
/// producer, and an empty results store (no model published yet).
struct AnswererFixture {
    let cluster: EmbeddedKafkaCluster
    let producer: KafkaProducer
    let store: LocalObjectStore
    let topics = PipelineTopics()

    init() throws {
        cluster = try EmbeddedKafkaCluster()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 1) }
        producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        store = try LocalObjectStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("answers-\(UUID().uuidString)").path)
    }

    func send(_ topic: String, _ value: [UInt8]) async throws {
        _ = try await producer.send(topic: topic, key: nil, value: value)
    }

    static func id(_ n: Int) -> String { String(format: "%032x", n) }

    /// Image `n`'s feature event, labelled Apple.
    static func features(_ n: Int, _ values: [Float]) throws -> [UInt8] {
        var event = Fruits_V1_FeatureEvent()
        event.imageID = id(n)
        event.uri = "file:///photos/Apple/\(n).jpg"
        event.label = "Apple"
        event.features = values
        return try event.serializedBytes()
    }
}
