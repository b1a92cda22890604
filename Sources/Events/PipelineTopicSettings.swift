extension PipelineTopics {
    /// How one topic of the pipeline is created: what `fruits topics create`
    /// asks the cluster for.
    public struct Settings: Sendable, Equatable {
        public let name: String
        public let partitions: Int
        /// -1: the brokers' `default.replication.factor`.
        public let replicationFactor: Int
        public var config: [String: String]
    }

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
    public func settings(partitions: Int, replicationFactor: Int = -1) -> [Settings] {
        let day = 24 * 3_600_000
        func settings(_ name: String, retentionDays: Int) -> Settings {
            var config = ["cleanup.policy": "delete", "retention.ms": "\(retentionDays * day)"]
            if replicationFactor == -1 || replicationFactor >= 3 { config["min.insync.replicas"] = "2" }
            return Settings(name: name, partitions: partitions, replicationFactor: replicationFactor, config: config)
        }
        var answers = settings(results, retentionDays: 0)
        answers.config["cleanup.policy"] = "compact"
        answers.config["retention.ms"] = nil
        return [settings(images, retentionDays: 7), settings(liveImages, retentionDays: 7), settings(features, retentionDays: 7),
                settings(deadLetters, retentionDays: 30), answers]
    }
}
