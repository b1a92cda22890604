import Events
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import TestSupport
import Testing

@testable import Extractor

@Suite("Extractor service: every input ends as features or one dead letter", .tags(.integration), .serialized)
struct ExtractionServiceTests {
    static func imageEvent(uri: String) -> Fruits_V1_ImageEvent {
        var event = Fruits_V1_ImageEvent()
        event.uri = uri
        event.imageID = EventIdentity.imageID(uri: uri)
        event.label = "fixture"
        return event
    }

    /// An extractor service with its defaults (files only) running until its task is cancelled.
    static func startService(kafka: KafkaConfiguration) throws -> Task<Void, any Error> {
        let pool = try InferencePool(weightsPath: Fixtures.weightsPath, configuration: .init())
        let service = try ExtractionService(configuration: .init(kafka: kafka), pool: pool, fetcher: .localFiles(),
                                            logger: Logger(label: "test"))
        return Task { try await service.run() }
    }

    @Test func poisonGoesToTheDeadLetterTopicAndThePartitionMovesOn() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 1) }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)

        func event(_ uri: String) throws -> [UInt8] { try Self.imageEvent(uri: uri).serializedBytes() }
        let good = Fixtures.directory.appendingPathComponent("fruit_100_a.jpg").absoluteString
        let truncated = Fixtures.directory.appendingPathComponent("bad/truncated.jpg").absoluteString
        let inputs: [(value: [UInt8], expect: String)] = [
            ([0xFF, 0x00, 0x13, 0x37], "malformed_event"),           // not an ImageEvent at all
            (try event(good), "features"),
            (try event("file:///nonexistent/photo.jpg"), "unreadable_object"),
            (try event(truncated), "truncated"),
            (try event("gopher://example/photo.jpg"), "unreadable_object"),
            (try event(good.replacingOccurrences(of: "fruit_100_a", with: "fruit_100_b")), "features"),
        ]
        for input in inputs { try await producer.send(topic: topics.images, key: nil, value: input.value) }

        let running = try ExtractionServiceTests.startService(kafka: kafka)

        let reader = try KafkaConsumer(configuration: kafka, groupID: "reader", subscription: .group(topics: [topics.features, topics.deadLetters]))
        var outcomes: [String] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while outcomes.count < inputs.count, ContinuousClock.now < deadline {
            for message in try await reader.poll(upTo: 10, timeout: .milliseconds(200)) {
                if message.topic == topics.features {
                    let features = try Fruits_V1_FeatureEvent(serializedBytes: message.value)
                    #expect(features.features.count == 1280)
                    outcomes.append("features")
                } else {
                    let letter = try Fruits_V1_DeadLetter(serializedBytes: message.value)
                    #expect(letter.stage == "extract" && !letter.message.isEmpty)
                    if letter.reason == "malformed_event" { #expect(letter.original == Data([0xFF, 0x00, 0x13, 0x37])) }
                    outcomes.append(letter.reason)
                }
            }
        }
        running.cancel()
        _ = try? await running.value
        try await reader.close()
        #expect(outcomes.sorted() == inputs.map(\.expect).sorted())
    }
}

@Suite("Extractor service rides out a broker outage", .tags(.integration), .serialized)
struct BrokerOutageTests {
    @Test func extractionResumesWhenTheBrokerComesBack() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let topics = PipelineTopics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 2) }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, ["log_level": "0"])
        let producer = try KafkaProducer(configuration: kafka)
        // Forty distinct image ids over one fixture file (the fragment is ignored when reading).
        let file = Fixtures.directory.appendingPathComponent("fruit_100_c.jpg").absoluteString
        for index in 0..<40 {
            let event = ExtractionServiceTests.imageEvent(uri: "\(file)#\(index)")
            try await producer.send(topic: topics.images, key: Array(event.imageID.utf8), value: try event.serializedBytes())
        }

        let running = try ExtractionServiceTests.startService(kafka: kafka)

        let reader = try KafkaConsumer(configuration: kafka, groupID: "reader", subscription: .group(topics: [topics.features]))
        var seen = Set<String>()
        var outage = false
        let deadline = ContinuousClock.now + .seconds(90)
        while seen.count < 40, ContinuousClock.now < deadline {
            for message in try await reader.poll(upTo: 40, timeout: .milliseconds(200)) {
                seen.insert(try Fruits_V1_FeatureEvent(serializedBytes: message.value).imageID)
            }
            if !outage && seen.count >= 4 {
                // The broker vanishes mid-run for a few seconds, then returns.
                outage = true
                try cluster.setBroker(1, up: false)
                try await Task.sleep(for: .seconds(3))
                try cluster.setBroker(1, up: true)
            }
        }
        running.cancel()
        _ = try? await running.value
        try await reader.close()
        #expect(outage)
        #expect(seen.count == 40, "features for \(seen.count) of 40 images after the outage")
    }
}
