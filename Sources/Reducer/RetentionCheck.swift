import Kafka

/// Records a reducer can no longer read: those between where its checkpoint
/// resumes each partition (0 for a partition it never read) and where the
/// broker's log now starts, because retention deleted them while the reducer
/// was down (7 days on the deployed topics). Reading on would skip them
/// silently, so the reducer refuses unless the operator accepts the loss.
struct RetentionLoss: Error, CustomStringConvertible, Equatable {
    /// Lost records per partition, only where some are.
    let lost: [TopicPartition: Int64]

    init(resumeAt offsets: [TopicPartition: Int64], logStarts: [TopicPartition: Int64]) {
        var lost: [TopicPartition: Int64] = [:]
        for (partition, start) in logStarts {
            let resume = offsets[partition] ?? 0
            if start > resume { lost[partition] = start - resume }
        }
        self.lost = lost
    }

    var isEmpty: Bool { lost.isEmpty }

    var byTopic: [String: Int64] { lost.reduce(into: [:]) { $0[$1.key.topic, default: 0] += $1.value } }

    var description: String {
        let partitions = lost.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
            .map { "\($0.key.topic)[\($0.key.partition)]: \($0.value)" }.joined(separator: ", ")
        return "\(lost.values.reduce(0, +)) records were deleted by the topics' retention before this reducer read them "
            + "(\(partitions)); their images are missing from the results. Re-run the backfill of those images, or pass "
            + "--accept-retention-loss to go on without them"
    }
}
