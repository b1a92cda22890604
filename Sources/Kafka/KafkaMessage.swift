import CRdKafka

/// A topic and partition.
public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// A consumed record.
public struct KafkaMessage: Sendable {
    public let topicPartition: TopicPartition
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    /// Milliseconds since the epoch, when the broker or producer set one.
    public let timestamp: Int64?

    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }

    public init(topicPartition: TopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8], timestamp: Int64?) {
        self.topicPartition = topicPartition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestamp = timestamp
    }

    init(_ message: UnsafePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let topic = String(cString: rd_kafka_topic_name(m.rkt))
        self.topicPartition = TopicPartition(topic: topic, partition: m.partition)
        self.offset = m.offset
        self.key = m.key.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        self.value = m.payload.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &type)
        self.timestamp = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
    }
}

/// Where a produced record landed.
public struct DeliveryReport: Sendable, Equatable {
    public let topicPartition: TopicPartition
    public let offset: Int64
}
