import CRdKafka

/// A Kafka failure, with librdkafka's error code and what to do about it.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case configuration
        case brokerUnreachable
        case delivery
        case consume
        case commit
        /// A commit lost to a rebalance: not fatal, the records are redelivered.
        case rebalanced
        case closed
        case client
    }

    public let kind: Kind
    /// `rd_kafka_resp_err_t` raw value; 0 when the error is ours.
    public let code: Int32
    public let message: String

    public init(_ kind: Kind, code: Int32 = 0, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    init(_ kind: Kind, error: rd_kafka_resp_err_t, _ context: String) {
        let name = String(cString: rd_kafka_err2name(error))
        let text = String(cString: rd_kafka_err2str(error))
        self.init(kind, code: error.rawValue, "\(context): \(name): \(text)")
    }

    public var description: String {
        switch kind {
        case .brokerUnreachable:
            "\(message) — check --brokers/FRUITS_BROKERS and that the cluster is up"
        case .configuration:
            "\(message) — see librdkafka's CONFIGURATION.md for valid -X properties"
        default:
            message
        }
    }
}
