import Foundation
import Kafka
import TestSupport
import Testing

@Suite("KafkaConsumer.batches: records as an AsyncSequence of batches", .tags(.integration))
struct KafkaConsumerBatchesTests {
    @Test func batchesAreBoundedTicksAreEmptyAndTheSequenceEndsOnClose() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("work", partitions: 1)
        let configuration = KafkaTests.configuration(cluster)
        let producer = try KafkaProducer(configuration: configuration)
        for index in 0..<7 { _ = try await producer.send(topic: "work", key: nil, value: Array("\(index)".utf8)) }
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "batches-\(UUID())",
                                         subscription: .partitions([TopicPartition(topic: "work", partition: 0)]))

        var values: [String] = []
        var sizes: [Int] = []
        var ticksAfterTheLast = 0
        let deadline = ContinuousClock.now + .seconds(30)
        for try await batch in consumer.batches(upTo: 3, timeout: .milliseconds(100)) {
            try #require(ContinuousClock.now < deadline, "read \(values) within 30 s")
            sizes.append(batch.count)
            values += batch.map { String(decoding: $0.value, as: UTF8.self) }
            if values.count == 7 && batch.isEmpty { ticksAfterTheLast += 1 }
            if ticksAfterTheLast == 2 { try await consumer.close() }  // ends the sequence
        }
        #expect(values == (0..<7).map(String.init), "in partition order, each once")
        #expect(sizes.allSatisfy { $0 <= 3 }, "\(sizes)")
        #expect(ticksAfterTheLast == 2, "an empty batch for each timeout without records")
        try await producer.close()
    }
}
