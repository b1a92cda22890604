import Foundation
import Kafka
import Synchronization
import TestSupport
import Testing

@Suite("Kafka over librdkafka, against the embedded cluster on loopback", .tags(.integration), .serialized)
struct KafkaTests {
    static func configuration(_ cluster: EmbeddedKafkaCluster) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, ["linger.ms": "5"])
    }

    @Test func tenThousandRecordsAreAllAcknowledged() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("images", partitions: 6)
        let producer = try KafkaProducer(configuration: Self.configuration(cluster))
        let reports = try await withThrowingTaskGroup(of: DeliveryReport.self) { group in
            for index in 0..<10_000 {
                group.addTask {
                    try await producer.send(topic: "images", key: Array("image-\(index)".utf8), value: Array("payload \(index)".utf8))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.count == 10_000)
        // Offsets are dense per partition: every record got exactly one slot.
        let byPartition = Dictionary(grouping: reports, by: \.topicPartition)
        #expect(byPartition.count == 6)
        for (_, delivered) in byPartition {
            #expect(delivered.map(\.offset).sorted() == Array(0..<Int64(delivered.count)))
        }
        try await producer.close()
    }

    /// More sends at once than librdkafka's queue holds wait their turn (the
    /// task, not its thread) instead of failing with a full queue.
    @Test func sendsBeyondAFullLocalQueueWaitAndAreAcknowledged() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("images", partitions: 2)
        var configuration = Self.configuration(cluster)
        configuration.setDefault("queue.buffering.max.messages", "10")
        let producer = try KafkaProducer(configuration: configuration)
        let delivered = try await withThrowingTaskGroup(of: DeliveryReport.self) { group in
            for index in 0..<500 {
                group.addTask { try await producer.send(topic: "images", key: nil, value: Array("payload \(index)".utf8)) }
            }
            return try await group.reduce(0) { count, _ in count + 1 }
        }
        #expect(delivered == 500)
        try await producer.close()
    }

    @Test func sameKeyGoesToSamePartition() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("images", partitions: 6)
        let producer = try KafkaProducer(configuration: Self.configuration(cluster))
        var partitions = Set<Int32>()
        for _ in 0..<5 {
            partitions.insert(try await producer.send(topic: "images", key: Array("apple-1".utf8), value: [1]).topicPartition.partition)
        }
        #expect(partitions.count == 1)
        try await producer.close()
    }

    @Test func groupSplitsPartitionsAndSurvivorResumesFromCommittedOffsets() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("work", partitions: 6)
        let configuration = Self.configuration(cluster)
        let producer = try KafkaProducer(configuration: configuration)
        let first = try KafkaConsumer(configuration: configuration, groupID: "extractors", subscription: .group(topics: ["work"]))
        let second = try KafkaConsumer(configuration: configuration, groupID: "extractors", subscription: .group(topics: ["work"]))
        let seen = Tally<String>()

        // Both members poll until the group has settled into a 3 + 3 split ...
        let split: @Sendable () -> Bool = { first.assignment.count == 3 && second.assignment.count == 3 }
        async let a: Void = Self.consume(first, into: seen, until: split)
        async let b: Void = Self.consume(second, into: seen, until: split)
        _ = try await (a, b)
        #expect(first.assignment.count == 3 && second.assignment.count == 3)
        #expect(first.assignment.isDisjoint(with: second.assignment))

        // ... then share the work, each committing what it processed.
        for index in 0..<600 {
            try await producer.send(topic: "work", key: Array("k\(index)".utf8), value: Array("\(index)".utf8))
        }
        let allSeen: @Sendable () -> Bool = { seen.counts.withLock { $0.count } == 600 }
        async let c: Void = Self.consume(first, into: seen, until: allSeen)
        async let d: Void = Self.consume(second, into: seen, until: allSeen)
        _ = try await (c, d)

        // The first member leaves; the second takes over all six partitions
        // from the committed offsets, so every record is seen exactly once.
        try await first.close()
        for index in 600..<900 {
            try await producer.send(topic: "work", key: Array("k\(index)".utf8), value: Array("\(index)".utf8))
        }
        try await Self.consume(second, into: seen) { seen.counts.withLock { $0.count } == 900 && second.assignment.count == 6 }
        #expect(second.assignment.count == 6)
        let counts = seen.counts.withLock { $0 }
        #expect(counts.count == 900, "missing \(900 - counts.count) records")
        #expect(counts.values.allSatisfy { $0 == 1 }, "some records were delivered twice")
        try await second.close()
        try await producer.close()
    }

    /// Polls, counts and commits each record until `done` (or a minute passes).
    static func consume(_ consumer: KafkaConsumer, into tally: Tally<String>, until done: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !done() && ContinuousClock.now < deadline {
            for message in try await consumer.poll(upTo: 1, timeout: .milliseconds(100)) {
                tally.counts.withLock { $0[String(decoding: message.value, as: UTF8.self), default: 0] += 1 }
                try await consumer.commit(message)
            }
        }
    }

    @Test func rebalancesArePublished() async throws {
        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic("work", partitions: 2)
        let consumer = try KafkaConsumer(configuration: Self.configuration(cluster), groupID: "g", subscription: .group(topics: ["work"]))
        let poller = Task { while !Task.isCancelled { _ = try await consumer.poll(upTo: 1, timeout: .milliseconds(100)) } }
        var iterator = consumer.rebalances.makeAsyncIterator()
        let event = await iterator.next()
        #expect(event == .assigned([TopicPartition(topic: "work", partition: 0), TopicPartition(topic: "work", partition: 1)]))
        poller.cancel()
        _ = try? await poller.value
        try await consumer.close()
    }

    @Test func unreachableBrokerFailsClearlyWithinTheBound() async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", ["log_level": "0"]))
        let start = ContinuousClock.now
        await #expect {
            try await producer.checkReachable(timeout: .seconds(2))
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.kind == .brokerUnreachable && error.description.contains("127.0.0.1:1")
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func unknownPropertyIsAConfigurationError() {
        #expect {
            try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:9092", ["no.such.property": "1"]))
        } throws: { error in
            (error as? KafkaError)?.kind == .configuration && "\(error)".contains("no.such.property")
        }
    }

    /// A rejected value may be a secret: the error names the key, never the value.
    @Test func aRejectedValueIsNotEchoed() {
        #expect {
            try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:9092",
                                                               ["security.protocol": "hunter2-secret"]))
        } throws: { error in
            (error as? KafkaError)?.kind == .configuration && "\(error)".contains("security.protocol")
                && !"\(error)".contains("hunter2-secret")
        }
    }

    @Test func commandLineOverridesParse() throws {
        var configuration = KafkaConfiguration(bootstrapServers: "b:9092")
        try configuration.apply(overrides: ["compression.type=zstd", "client.id=a=b"])
        #expect(configuration["compression.type"] == "zstd")
        #expect(configuration["client.id"] == "a=b")
        #expect(throws: KafkaError.self) { try configuration.apply(overrides: ["novalue"]) }
    }
}
