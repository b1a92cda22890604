import Kafka

extension PipelineTopics {
    /// How each topic of the pipeline is created (`fruits topics create`).
    ///
    /// - Images and features keep 7 days: a backfill's events must outlive the
    ///   backfill, and the reducer's checkpoint offsets must still exist when
    ///   it comes back from an outage; 7 days is the recovery window.
    /// - Dead letters keep 30 days: someone has to look at them.
    /// - Results are compacted, not expired: the latest answer per image id
    ///   is state the upload endpoints read back.
    /// - `min.insync.replicas` 2 when there are 3 or more replicas (the
    ///   producers use acks=all), so a write survives the loss of one broker.
    public func specs(partitions: Int, replicationFactor: Int = -1) -> [KafkaAdmin.TopicSpec] {
        let day = 24 * 3_600_000
        func spec(_ name: String, retentionDays: Int) -> KafkaAdmin.TopicSpec {
            var config = ["cleanup.policy": "delete", "retention.ms": "\(retentionDays * day)"]
            if replicationFactor == -1 || replicationFactor >= 3 { config["min.insync.replicas"] = "2" }
            return KafkaAdmin.TopicSpec(name: name, partitions: partitions, replicationFactor: replicationFactor, config: config)
        }
        var answers = spec(results, retentionDays: 0)
        answers.config["cleanup.policy"] = "compact"
        answers.config["retention.ms"] = nil
        return [spec(images, retentionDays: 7), spec(liveImages, retentionDays: 7), spec(features, retentionDays: 7),
                spec(deadLetters, retentionDays: 30), answers]
    }
}
