import CRdKafka
#if canImport(Glibc)
import Glibc
#endif

/// librdkafka's mock cluster, in process: real Kafka protocol over TCP on
/// loopback, so clients connect to `bootstrapServers` like to any broker.
///
/// It is a test double: no durability, roughly 5 MiB kept per partition
/// (older records silently dropped), no transactions, topics only from
/// `createTopic` or auto-created with 4 partitions. Events therefore carry
/// references to images, never image bytes.
public final class EmbeddedKafkaCluster: @unchecked Sendable {
    // librdkafka's mock API is thread-safe; both pointers live as long as self.
    private let owner: KafkaHandle
    private let cluster: OpaquePointer
    public let bootstrapServers: String

    public init(brokers: Int = 1) throws {
        // The mock cluster needs a client instance to own its threads.
        owner = try KafkaHandle(type: RD_KAFKA_PRODUCER, configuration: KafkaConfiguration(bootstrapServers: "", ["log_level": "3"]))
        guard let cluster = rd_kafka_mock_cluster_new(owner.pointer, Int32(brokers)) else {
            throw KafkaError(.client, "cannot start the embedded Kafka cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        Self.letTheClusterThreadSettle()
        let error = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.client, error: error, "cannot create topic \(name)")
        }
    }

    /// Takes broker `id` (1-based) off the network, or brings it back.
    public func setBroker(_ id: Int32, up: Bool) throws {
        Self.letTheClusterThreadSettle()
        let error = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.client, error: error, "cannot set broker \(id) \(up ? "up" : "down")")
        }
    }

    /// The next `count` produce requests the cluster receives are refused
    /// (topic authorization failed, an error librdkafka does not retry): the
    /// delivery failures of a results topic a producer may not write to.
    public func refuseNextProduceRequests(_ count: Int) {
        Self.letTheClusterThreadSettle()
        var errors = [rd_kafka_resp_err_t](repeating: RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, count: count)
        rd_kafka_mock_push_request_errors_array(cluster, 0 /* Produce */, errors.count, &errors)
    }

    /// librdkafka 2.0.2's mock cluster thread wakes on a pipe. When a request
    /// follows the previous reply within microseconds, the thread drains both
    /// wake-ups while serving the first, then sleeps through its 1 s poll with
    /// the second still queued: `fruits broker` took 1.05 s to start in 9 of
    /// 12 tries. A short pause before each request lets it drain first
    /// (0.06-0.09 s in 20 of 20).
    private static func letTheClusterThreadSettle() {
        usleep(2_000)
    }
}
