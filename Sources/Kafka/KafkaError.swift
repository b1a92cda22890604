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
        /// No credential for the brokers (an OAUTHBEARER token could not be had).
        case authentication
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

    /// Whether the same call may succeed later without anyone acting: a
    /// broker down or moving a partition's leadership, a timeout, a group
    /// rebalancing, a full local queue. A bad configuration, a closed client
    /// or a record the broker refuses will not.
    public var isRetriable: Bool {
        switch kind {
        case .brokerUnreachable, .rebalanced: true
        case .configuration, .closed, .authentication: false
        case .delivery, .consume, .commit, .client: Self.retriableCodes.contains(code)
        }
    }

    static let retriableCodes: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
    ].map(\.rawValue))

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
