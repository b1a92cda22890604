import ArgumentParser
import Events
import Kafka
import Reducer

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the pipeline's topics, or show their partitions and the groups' lag.",
        subcommands: [Create.self, Describe.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the pipeline's topics where missing (safe to run again).",
            discussion: """
                fruits.images, fruits.images.live, fruits.features, fruits.deadletter and fruits.results. Existing topics \
                are left as they are. Retention: 7 days for images and features, 30 for dead letters; results are compacted.
                """)

        @OptionGroup var service: ServiceOptions

        @Option(help: "Partitions of each topic: the most extractors that can share the work.")
        var partitions = 12

        @Option(help: "Replicas of each partition (-1: the brokers' default.replication.factor).")
        var replicationFactor = -1

        func validate() throws {
            guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
            guard replicationFactor == -1 || replicationFactor >= 1 else { throw ValidationError("--replication-factor must be -1 or at least 1") }
        }

        func run() async throws {
            let admin = try KafkaAdmin(configuration: try service.kafka())
            let specs = PipelineTopics().settings(partitions: partitions, replicationFactor: replicationFactor).map { topic in
                KafkaAdmin.TopicSpec(name: topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor,
                                     config: topic.config)
            }
            let outcomes = try await admin.create(specs, timeout: .seconds(service.connectTimeout))
            for topic in PipelineTopics().all {
                switch outcomes[topic] {
                case .created: print("\(topic)  created (\(partitions) partitions)")
                case .exists(let count): print("\(topic)  exists (\(count) partitions), left as it is")
                case nil: print("\(topic)  unknown")
                }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Partitions of each topic and each group's lag, as an autoscaler sees it.",
            discussion: "With --results, also the records retention deleted before the reducer read them.")

        @OptionGroup var service: ServiceOptions

        @Option(help: "The reducer's results (a directory or s3://bucket/Results/): compare its checkpoint with the topics' log start offsets.")
        var results: String?

        func run() async throws {
            let admin = try KafkaAdmin(configuration: try service.kafka())
            let topics = try await admin.topics(timeout: .seconds(service.connectTimeout))
            let pipeline = PipelineTopics()
            for topic in pipeline.all {
                print("\(topic)  " + (topics[topic].map { "\($0) partitions" } ?? "missing (fruits topics create)"))
            }
            let watched = [(PipelineGroups.extractors, pipeline.images), (PipelineGroups.liveExtractors, pipeline.liveImages),
                           (PipelineGroups.reducer, pipeline.features),
                           (PipelineGroups.reducer, pipeline.deadLetters),
                           (PipelineGroups.answerers, pipeline.features), (PipelineGroups.answerers, pipeline.deadLetters)]
            for (group, topic) in watched where topics[topic] != nil {
                let lag = try await admin.lag(group: group, topic: topic)
                let detail = lag.keys.sorted().map { "\($0):\(lag[$0]!)" }.joined(separator: " ")
                print("group \(group) on \(topic)  lag \(lag.values.reduce(0, +))  (\(detail))")
            }
            guard let results else { return }
            let offsets = try await RetentionStatus.checkpointOffsets(in: try service.storage.store(results))
            for topic in [pipeline.features, pipeline.deadLetters] where topics[topic] != nil {
                let starts = try await admin.logStartOffsets(topic: topic, timeout: .seconds(service.connectTimeout))
                print(RetentionStatus.line(topic: topic, resumeAt: offsets, logStarts: starts))
            }
        }
    }
}
