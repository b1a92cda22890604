import CRdKafka

/// An `rd_kafka_t` (producer or consumer). librdkafka handles are thread-safe.
final class KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let bootstrapServers: String

    init(type: rd_kafka_type_t, configuration: KafkaConfiguration, prepare: (OpaquePointer) -> Void = { _ in }) throws {
        let conf = try configuration.makeHandle()
        prepare(conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let pointer = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.client, "cannot create Kafka client: \(text(errorText))")
        }
        self.pointer = pointer
        self.bootstrapServers = configuration.bootstrapServers
    }

    deinit { rd_kafka_destroy(pointer) }

    /// Fails with `.brokerUnreachable` unless a broker answers a metadata
    /// request within `timeout`. librdkafka itself retries forever, so a
    /// service calls this once at start to fail fast on a wrong address.
    func checkReachable(timeout: Duration) throws {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(pointer, 0, nil, &metadata, timeout.milliseconds)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.brokerUnreachable, error: error,
                             "no Kafka broker answered at \(bootstrapServers) within \(timeout)")
        }
    }
}

extension KafkaHandle {
    /// Every partition of `topics` (nil: of every topic) that the cluster's metadata lists.
    func partitions(of topics: [String]?, timeout: Duration) throws -> [TopicPartition] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(pointer, 1, nil, &metadata, timeout.milliseconds)
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(.brokerUnreachable, error: error, "cannot read the topics of \(bootstrapServers)")
        }
        var partitions: [TopicPartition] = []
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            let name = String(cString: topic.topic)
            guard topics?.contains(name) ?? true, topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            for partition in 0..<Int(topic.partition_cnt) {
                partitions.append(TopicPartition(topic: name, partition: topic.partitions[partition].id))
            }
        }
        return partitions.sorted()
    }
}

extension KafkaHandle {
    /// The cluster's id (from its metadata); nil if no broker answered in time.
    func clusterID(timeout: Duration) -> String? {
        guard let id = rd_kafka_clusterid(pointer, timeout.milliseconds) else { return nil }
        defer { rd_kafka_mem_free(pointer, id) }
        return String(cString: id)
    }
}

extension rd_kafka_topic_partition_list_t {
    var topicPartitions: [TopicPartition] {
        (0..<Int(cnt)).map { index in
            TopicPartition(topic: String(cString: elems[index].topic), partition: elems[index].partition)
        }
    }
}

/// Builds an `rd_kafka_topic_partition_list_t`; the caller destroys it.
func makePartitionList(_ offsets: [TopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
    for (topicPartition, offset) in offsets {
        let element = rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)!
        element.pointee.offset = offset
    }
    return list
}

/// The NUL-terminated text librdkafka wrote into an error buffer.
func text(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

extension Duration {
    /// Whole milliseconds, as librdkafka's timeouts take them.
    var milliseconds: Int32 {
        Int32(clamping: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
