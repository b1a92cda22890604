import CRdKafka

/// An `rd_kafka_t` (producer or consumer). librdkafka handles are thread-safe.
final class KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let configuration: KafkaConfiguration
    /// Reached by the C callbacks through the client's opaque; lives as long as the client.
    private let context: KafkaClientContext

    var bootstrapServers: String { configuration.bootstrapServers }

    init(
        type: rd_kafka_type_t, configuration: KafkaConfiguration, rebalance: RebalanceState? = nil,
        prepare: (OpaquePointer) -> Void = { _ in }
    ) throws {
        var oauthBearer: OAuthBearerRefresher?
        if case .oauthBearer(let source) = configuration.authentication { oauthBearer = OAuthBearerRefresher(source) }
        let context = KafkaClientContext(rebalance: rebalance, oauthBearer: oauthBearer)
        let conf = try configuration.makeHandle()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        if oauthBearer != nil {
            rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, oauthBearerRefreshCallback)
            // Its own queue, served by librdkafka's background thread: tokens
            // come whether or not anyone polls the client.
            rd_kafka_conf_enable_sasl_queue(conf, 1)
        }
        prepare(conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let pointer = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.client, "cannot create Kafka client: \(text(errorText))")
        }
        if oauthBearer != nil, let error = rd_kafka_sasl_background_callbacks_enable(pointer) {
            let message = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            rd_kafka_destroy(pointer)
            throw KafkaError(.client, "cannot serve OAUTHBEARER token refreshes: \(message)")
        }
        self.pointer = pointer
        self.configuration = configuration
        self.context = context
    }

    deinit { rd_kafka_destroy(pointer) }

    /// Fails with `.brokerUnreachable` unless a broker answers a metadata
    /// request within `timeout`. librdkafka itself retries forever, so a
    /// service calls this once at start to fail fast on a wrong address.
    func checkReachable(timeout: Duration) throws {
        try checkAuthentication(timeout: timeout)
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
    /// Fails with `.authentication` when the client has no OAUTHBEARER token
    /// because the latest refresh failed, after waiting up to `timeout` for
    /// the first: a client without a token never connects, so this names the
    /// cause where a metadata request would only time out.
    func checkAuthentication(timeout: Duration) throws {
        guard let failure = context.oauthBearer?.failure(waitingUpTo: timeout) else { return }
        throw KafkaError(.authentication, "cannot authenticate to Kafka at \(bootstrapServers): \(failure)")
    }
}

/// What librdkafka's C callbacks reach through the client's opaque pointer.
final class KafkaClientContext: Sendable {
    let rebalance: RebalanceState?
    let oauthBearer: OAuthBearerRefresher?

    init(rebalance: RebalanceState?, oauthBearer: OAuthBearerRefresher?) {
        self.rebalance = rebalance
        self.oauthBearer = oauthBearer
    }
}

extension KafkaHandle {
    /// Every partition of `topics` (nil: of every topic) that the cluster's metadata lists.
    func partitions(of topics: [String]?, timeout: Duration) throws -> [TopicPartition] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(pointer, 1, nil, &metadata, timeout.milliseconds)
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            try checkAuthentication(timeout: .zero)
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
    /// Each partition's first offset the broker still keeps (its log start,
    /// which retention moves on).
    func logStartOffsets(of partitions: [TopicPartition], timeout: Duration) throws -> [TopicPartition: Int64] {
        var starts: [TopicPartition: Int64] = [:]
        for partition in partitions {
            var low: Int64 = 0, high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(pointer, partition.topic, partition.partition, &low, &high, timeout.milliseconds)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(.client, error: error, "cannot read the offsets of \(partition.topic)[\(partition.partition)]")
            }
            starts[partition] = low
        }
        return starts
    }

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
