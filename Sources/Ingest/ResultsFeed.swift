import Common
import Events
import Kafka
import Logging
import ServiceLifecycle

/// Reads the results topic into `RecentResults`: every partition, from the
/// beginning (the topic is compacted, so that is the latest answer of every
/// image still kept), without a group, so every replica sees every answer.
/// Partitions are looked up again now and then: the topic may be created
/// after the endpoint starts.
public final class ResultsFeed: Service, Sendable {
    private let consumer: KafkaConsumer
    private let topic: String
    private let results: RecentResults
    private let logger: Logger

    public init(kafka: KafkaConfiguration, topic: String = PipelineTopics().results, into results: RecentResults, logger: Logger) throws {
        var configuration = kafka
        configuration.setDefault(KafkaConsumer.lowLatencyFetch)
        consumer = try KafkaConsumer(configuration: configuration, groupID: "fruits-upload-results", subscription: .partitions([]),
                                     startOffsets: { _ in KafkaConsumer.beginningOffset })
        self.topic = topic
        self.results = results
        self.logger = logger
    }

    public func run() async throws {
        do { try await read() } catch {
            await close()
            throw error
        }
        await close()
    }

    private func close() async {
        try? await consumer.close()
    }

    private func read() async throws {
        var assigned: [TopicPartition] = []
        var lastLookup: ContinuousClock.Instant?
        // Unassigned, a read just waits out its timeout: the lookups below still run.
        for try await messages in consumer.batches(upTo: 1_000, timeout: .milliseconds(250)) {
            guard !Task.isShuttingDownGracefully else { break }
            if lastLookup.map({ ContinuousClock.now - $0 >= .seconds(assigned.isEmpty ? 1 : 15) }) ?? true {
                lastLookup = .now
                let partitions = (try? await consumer.partitions(of: [topic], timeout: .seconds(5))) ?? []
                if partitions.count > assigned.count { try await consumer.assign(partitions) }
                if partitions.count > assigned.count {
                    logger.info("reading answers", metadata: ["topic": "\(topic)", "partitions": "\(partitions.count)"])
                    assigned = partitions
                }
            }
            for message in messages {
                guard let result = try? Fruits_V1_ImageResult(serializedBytes: message.value), !result.imageID.isEmpty else {
                    logger.warning("skipping a record that is not a fruits.v1.ImageResult", metadata: [
                        "partition": "\(message.partition)", "offset": "\(message.offset)"])
                    continue
                }
                results.record(result)
            }
        }
    }
}
