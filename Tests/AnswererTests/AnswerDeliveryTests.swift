import Answerer
import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import TestSupport
import Testing


/// An answer that the results topic refuses is sent again, not given up:
/// the answerer once logged it, committed the record's offset and so lost
/// the answer for good (the app kept seeing "pending").
@Suite("Answerer: no answer lost", .tags(.integration), .serialized)
struct AnswerDeliveryTests {
    @Test(.timeLimit(.minutes(2)))
    func refusedAnswersAreSentAgainUntilDelivered() async throws {
        let fixture = try AnswererFixture()
        let images = 20
        for n in 1...images {
            try await fixture.send(fixture.topics.features, AnswererFixture.features(n, [Float(n % 5), 1, 2, 3]))
        }
        fixture.cluster.refuseNextProduceRequests(3)
        var configuration = AnswerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: fixture.cluster.bootstrapServers))
        configuration.dimension = 4
        let answerer = try AnswerService(configuration: configuration, results: fixture.store, logger: Logger(label: "test"))
        let running = Task { try await answerer.run() }
        defer { running.cancel() }

        let reader = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: fixture.cluster.bootstrapServers),
                                       groupID: "check-\(UUID())", subscription: .group(topics: [fixture.topics.results]))
        var answered: Set<String> = []
        let deadline = ContinuousClock.now + .seconds(60)
        while answered.count < images, ContinuousClock.now < deadline {
            for message in try await reader.poll(upTo: 100, timeout: .seconds(1)) {
                answered.insert(try Fruits_V1_ImageResult(serializedBytes: message.value).imageID)
            }
        }
        try await reader.close()
        #expect(answered == Set((1...images).map(AnswererFixture.id)), "\(answered.count) of \(images) answered")
    }
}
