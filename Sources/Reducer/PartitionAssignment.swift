import Events
import Kafka
import Metrics
import ServiceLifecycle

extension ReducerService {
    /// Assigns the partitions of the topics that exist; with `waiting`, first
    /// waits for the features topic, logging now and then, and claims the
    /// results once it knows the checkpoint's offsets fit this cluster.
    func assignPartitions(waiting: Bool) async throws {
        let topics = [configuration.topics.features, configuration.topics.deadLetters]
        var lastNotice: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully {
            let partitions = try await consumer.partitions(of: topics)
            if !waiting || partitions.contains(where: { $0.topic == configuration.topics.features }) {
                try await record(partitions, checkingCheckpoint: waiting)
                if waiting {
                    try await owner.claim()
                    await resume()  // the claim may have read a newer checkpoint
                    try await record(partitions, checkingCheckpoint: true)
                    try await checkRetention(of: partitions)
                }
                try await consumer.assign(partitions)
                return
            }
            if lastNotice.map({ ContinuousClock.now - $0 >= .seconds(30) }) ?? true {
                logger.notice("waiting for the topic to exist", metadata: ["topic": "\(configuration.topics.features)"])
                lastNotice = .now
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Notes the cluster and partition counts for the next checkpoint; at
    /// start, refuses checkpoint offsets that point into another cluster or
    /// into a topic with fewer partitions than they name (it was created
    /// again): reading on would silently skip that topic's first records.
    private func record(_ partitions: [TopicPartition], checkingCheckpoint: Bool) async throws {
        let counts = Dictionary(grouping: partitions, by: \.topic).mapValues(\.count)
        guard checkingCheckpoint else {
            source?.partitions.merge(counts) { max($0, $1) }
            return
        }
        let current = ReducerCheckpoint.KafkaSource(clusterID: await consumer.clusterID() ?? "unknown", partitions: counts)
        defer { source = current }
        guard configuration.resetOffsets == nil, !committedOffsets.isEmpty, let saved = await owner.checkpointSource else { return }
        let hint = "pass --reset-offsets earliest (read these topics from their start) or latest (only new records) to start over"
        guard saved.clusterID == current.clusterID else {
            throw OffsetsDoNotMatch(description: "the checkpoint's offsets belong to Kafka cluster \(saved.clusterID), "
                + "but \(configuration.kafka.bootstrapServers) is cluster \(current.clusterID); \(hint)")
        }
        for (topic, count) in saved.partitions.sorted(by: { $0.key < $1.key }) where (current.partitions[topic] ?? 0) < count {
            throw OffsetsDoNotMatch(description: "the checkpoint read \(count) partitions of \(topic), which now has "
                + "\(current.partitions[topic] ?? 0): the topic was created again; \(hint)")
        }
    }

    /// At start, before reading: records retention deleted before this
    /// reducer read them are a `RetentionLoss` unless the operator accepts it.
    private func checkRetention(of partitions: [TopicPartition]) async throws {
        guard configuration.resetOffsets == nil else { return }
        let loss = RetentionLoss(resumeAt: committedOffsets, logStarts: try await consumer.logStartOffsets(of: partitions))
        for (topic, lost) in loss.byTopic {
            Gauge(label: "fruits_reducer_retention_lost_records", dimensions: [("topic", topic)]).record(lost)
        }
        guard !loss.isEmpty else { return }
        guard configuration.acceptRetentionLoss else { throw loss }
        logger.error("going on without records retention deleted (--accept-retention-loss)", metadata: ["loss": "\(loss)"])
    }
}
