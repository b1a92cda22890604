import Kafka
import ObjectStorage
import Results

/// `fruits topics describe`'s retention line for a topic the reducer reads:
/// where its checkpoint resumes each partition against where the broker's
/// log now starts, and the records lost in between (`RetentionLoss`).
public enum RetentionStatus {
    /// The offsets the reducer's checkpoint in `store` resumes at; empty
    /// when there is no checkpoint yet (the reducer starts at 0).
    public static func checkpointOffsets(in store: any ObjectStore) async throws -> [TopicPartition: Int64] {
        guard let (bytes, _) = try await store.getVersioned(ResultsLayout.checkpoint) else { return [:] }
        return try ReducerCheckpoint(bytes: bytes, file: store.location.uri(of: ResultsLayout.checkpoint)).offsets
    }

    /// "retention on fruits.features  no records lost (log start <= checkpoint on 6 partitions)", or
    /// "retention on fruits.features  LOST 412 records: [0] log start 950, checkpoint 700 (250 lost); ...".
    public static func line(topic: String, resumeAt offsets: [TopicPartition: Int64], logStarts: [TopicPartition: Int64]) -> String {
        let loss = RetentionLoss(resumeAt: offsets, logStarts: logStarts.filter { $0.key.topic == topic })
        guard !loss.isEmpty else {
            return "retention on \(topic)  no records lost (log start <= the reducer's checkpoint on \(logStarts.count { $0.key.topic == topic }) partitions)"
        }
        let partitions = loss.lost.keys.sorted { $0.partition < $1.partition }.map { partition in
            "[\(partition.partition)] log start \(logStarts[partition] ?? 0), checkpoint \(offsets[partition] ?? 0) (\(loss.lost[partition] ?? 0) lost)"
        }
        return "retention on \(topic)  LOST \(loss.lost.values.reduce(0, +)) records: " + partitions.joined(separator: "; ")
            + "; the reducer refuses to start unless given --accept-retention-loss"
    }
}
