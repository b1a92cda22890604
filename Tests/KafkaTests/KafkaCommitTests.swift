import Foundation
import Kafka
import TestSupport
import Testing

@Suite("KafkaConsumer's async commit, assignment and close", .tags(.integration))
struct KafkaCommitTests {
    /// The commit's result comes back on librdkafka's background thread: once
    /// `commit` returns, the broker holds the offset (the admin reads it with
    /// a consumer of its own), and a new member of the group starts after it.
    @Test func aCommitIsStoredWhenItReturns() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("work", partitions: 1)
        let configuration = KafkaTests.configuration(cluster)
        let producer = try KafkaProducer(configuration: configuration)
        for index in 0..<5 { _ = try await producer.send(topic: "work", key: nil, value: Array("\(index)".utf8)) }
        let partition = TopicPartition(topic: "work", partition: 0)
        let group = "commit-\(UUID())"

        let first = try KafkaConsumer(configuration: configuration, groupID: group, subscription: .partitions([partition]))
        let read = try await Self.read(3, from: first)
        try await first.commit(read[2])
        let admin = try KafkaAdmin(configuration: configuration)
        #expect(try await admin.lag(group: group, topic: "work") == [0: 2])
        try await first.close()

        let second = try KafkaConsumer(configuration: configuration, groupID: group, subscription: .partitions([]))
        try await second.assign([partition])
        #expect(second.assignment == [partition])
        let rest = try await Self.read(2, from: second)
        #expect(rest.map { String(decoding: $0.value, as: UTF8.self) } == ["3", "4"])
        try await second.close()
        try await producer.close()
    }

    @Test func aClosedConsumerRefusesCommitsAndAssignments() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("work", partitions: 1)
        let partition = TopicPartition(topic: "work", partition: 0)
        let consumer = try KafkaConsumer(configuration: KafkaTests.configuration(cluster), groupID: "closed-\(UUID())",
                                         subscription: .partitions([]))
        try await consumer.close()
        let commit = try await thrownKafkaError { try await consumer.commit([partition: 1]) }
        #expect(commit.kind == .closed, "\(commit)")
        let assign = try await thrownKafkaError { try await consumer.assign([partition]) }
        #expect(assign.kind == .closed, "\(assign)")
    }

    /// librdkafka drops a commit its group purges while closing, without an
    /// answer; the close answers it instead. Each round sends commits and
    /// closes at once: every commit ends, stored or refused as closed, and
    /// the test's time limit would catch one left waiting.
    @Test(.timeLimit(.minutes(2)))
    func commitsRacingACloseAllEnd() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("work", partitions: 1)
        let configuration = KafkaTests.configuration(cluster)
        let producer = try KafkaProducer(configuration: configuration)
        for index in 0..<20 { _ = try await producer.send(topic: "work", key: nil, value: Array("\(index)".utf8)) }
        let partition = TopicPartition(topic: "work", partition: 0)
        for round in 0..<5 {
            let consumer = try KafkaConsumer(configuration: configuration, groupID: "race-\(round)-\(UUID())", subscription: .partitions([partition]))
            _ = try await Self.read(1, from: consumer)
            let ended = try await withThrowingTaskGroup(of: Bool.self) { group in
                for offset in 1...8 {
                    group.addTask {
                        do { try await consumer.commit([partition: Int64(offset)]) } catch let error as KafkaError where error.kind == .closed {}
                        return true
                    }
                }
                group.addTask { try await consumer.close(); return false }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(ended == 8, "round \(round): \(ended) of 8 commits ended")
        }
        try await producer.close()
    }

    /// Reads exactly `count` records, within 30 s.
    static func read(_ count: Int, from consumer: KafkaConsumer) async throws -> [KafkaMessage] {
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while messages.count < count {
            try #require(ContinuousClock.now < deadline, "read \(messages.count) of \(count) records within 30 s")
            messages += try await consumer.poll(upTo: count - messages.count, timeout: .milliseconds(200))
        }
        return messages
    }
}
