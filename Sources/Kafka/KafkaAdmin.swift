import CRdKafka

/// Topic administration: which topics exist, creating the missing ones, and a
/// consumer group's lag, over librdkafka's admin and metadata APIs.
public final class KafkaAdmin: Sendable {
    /// A topic to create: its partitions, replicas (-1: the broker's
    /// `default.replication.factor`) and topic-level configuration.
    public struct TopicSpec: Sendable, Equatable {
        public var name: String
        public var partitions: Int
        public var replicationFactor: Int
        public var config: [String: String]

        public init(name: String, partitions: Int, replicationFactor: Int = -1, config: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.config = config
        }
    }

    public enum Outcome: Sendable, Equatable {
        case created
        /// Already there (with this many partitions): nothing was changed.
        case exists(partitions: Int)
    }

    private let handle: KafkaHandle

    public init(configuration: KafkaConfiguration) throws {
        handle = try KafkaHandle(type: RD_KAFKA_PRODUCER, configuration: configuration)
    }

    // Each request waits for the broker on the module's threads (`KafkaThreads`).

    /// Partition counts of the topics the cluster has, by name.
    public func topics(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        try await KafkaThreads.run { try self.topicsWaiting(timeout: timeout) }
    }

    /// Creates the topics that do not exist yet; existing ones are left as
    /// they are (so this is safe to run again, and needs no admin right when
    /// there is nothing to create).
    public func create(_ specs: [TopicSpec], timeout: Duration = .seconds(30)) async throws -> [String: Outcome] {
        try await KafkaThreads.run { try self.createWaiting(specs, timeout: timeout) }
    }

    /// How many records of `topic` the group has not committed yet, per
    /// partition (the whole partition when the group committed nothing):
    /// what an autoscaler such as KEDA sees.
    public func lag(group: String, topic: String, timeout: Duration = .seconds(10)) async throws -> [Int32: Int64] {
        try await KafkaThreads.run { try self.lagWaiting(group: group, topic: topic, timeout: timeout) }
    }

    /// Where each partition of `topic` now starts: records before it were
    /// deleted by retention.
    public func logStartOffsets(topic: String, timeout: Duration = .seconds(10)) async throws -> [TopicPartition: Int64] {
        let handle = self.handle
        return try await KafkaThreads.run {
            try handle.logStartOffsets(of: handle.partitions(of: [topic], timeout: timeout), timeout: timeout)
        }
    }

    private func topicsWaiting(timeout: Duration) throws -> [String: Int] {
        let partitions = try handle.partitions(of: nil, timeout: timeout)
        return Dictionary(grouping: partitions, by: \.topic).mapValues(\.count)
    }

    private func createWaiting(_ specs: [TopicSpec], timeout: Duration) throws -> [String: Outcome] {
        let existing = try topicsWaiting(timeout: timeout)
        var outcomes: [String: Outcome] = [:]
        for spec in specs { if let count = existing[spec.name] { outcomes[spec.name] = .exists(partitions: count) } }
        let missing = specs.filter { existing[$0.name] == nil }
        guard !missing.isEmpty else { return outcomes }

        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in missing {
            guard let topic = rd_kafka_NewTopic_new(spec.name, Int32(spec.partitions), Int32(spec.replicationFactor),
                                                    &errorText, errorText.count)
            else { throw KafkaError(.configuration, "topic \(spec.name): \(text(errorText))") }
            newTopics.append(topic)
            for (key, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                let error = rd_kafka_NewTopic_set_config(topic, key, value)
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(.configuration, error: error, "topic \(spec.name): \(key)") }
            }
        }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.milliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errorText, errorText.count)
        let queue = rd_kafka_queue_new(handle.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { topics in
            rd_kafka_CreateTopics(handle.pointer, topics.baseAddress, topics.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 5_000) else {
            throw KafkaError(.client, "no answer to CreateTopics from \(handle.bootstrapServers) within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let error = rd_kafka_event_error(event)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            var detail = String(cString: rd_kafka_event_error_string(event))
            if error == RD_KAFKA_RESP_ERR__TIMED_OUT {
                detail += "; a cluster that names no controller cannot create topics (fruits broker creates its own at start)"
            }
            throw KafkaError(.client, error: error, "cannot create \(missing.map(\.name)) at \(handle.bootstrapServers) (\(detail))")
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let results = rd_kafka_CreateTopics_result_topics(result, &count)
        else { throw KafkaError(.client, "CreateTopics gave no result") }
        var failures: [String] = []
        for index in 0..<count {
            let name = String(cString: rd_kafka_topic_result_name(results[index]))
            let error = rd_kafka_topic_result_error(results[index])
            switch error {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                outcomes[name] = .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:  // created meanwhile by someone else
                outcomes[name] = .exists(partitions: missing.first { $0.name == name }?.partitions ?? 0)
            default:
                let message = rd_kafka_topic_result_error_string(results[index]).map { String(cString: $0) } ?? ""
                failures.append("\(name): \(String(cString: rd_kafka_err2name(error))) \(message)")
            }
        }
        guard failures.isEmpty else { throw KafkaError(.client, "cannot create topics: \(failures.joined(separator: "; "))") }
        return outcomes
    }

    private func lagWaiting(group: String, topic: String, timeout: Duration) throws -> [Int32: Int64] {
        let partitions = try handle.partitions(of: [topic], timeout: timeout)
        guard !partitions.isEmpty else { return [:] }
        // The admin's own configuration: its security properties and authentication too.
        var readerConfiguration = handle.configuration
        readerConfiguration["group.id"] = group
        readerConfiguration["enable.auto.commit"] = "false"
        let reader = try KafkaHandle(type: RD_KAFKA_CONSUMER, configuration: readerConfiguration)
        let list = makePartitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error = rd_kafka_committed(reader.pointer, list, timeout.milliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(.client, error: error, "cannot read the offsets of group \(group)") }
        var lag: [Int32: Int64] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            var low: Int64 = 0, high: Int64 = 0
            let watermarks = rd_kafka_query_watermark_offsets(handle.pointer, topic, element.partition, &low, &high, timeout.milliseconds)
            guard watermarks == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(.client, error: watermarks, "cannot read the offsets of \(topic)[\(element.partition)]")
            }
            lag[element.partition] = max(high - (element.offset >= 0 ? element.offset : low), 0)
        }
        return lag
    }
}
