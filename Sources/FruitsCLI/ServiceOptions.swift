import ArgumentParser
import Common
import Foundation

/// Broker, topic and S3 options shared by the pipeline's services.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers (default: $FRUITS_BROKERS).")
    var brokers: String?

    @Option(name: [.customShort("X"), .long], help: "A librdkafka property, key=value (repeatable).")
    var kafkaProperty: [String] = []

    @Option(help: "S3 endpoint for MinIO or a test server (default: $AWS_ENDPOINT_URL; AWS when unset).")
    var s3Endpoint: String?

    @Option(help: "Seconds to wait for a broker at start before giving up.")
    var connectTimeout: Int = 15

    func kafka() throws -> KafkaConfiguration {
        guard let brokers = brokers ?? ProcessInfo.processInfo.environment["FRUITS_BROKERS"], !brokers.isEmpty else {
            throw ValidationError("no Kafka brokers: pass --brokers host:port or set FRUITS_BROKERS")
        }
        var configuration = KafkaConfiguration(bootstrapServers: brokers)
        try configuration.apply(overrides: kafkaProperty)
        return configuration
    }

    func s3() throws -> S3Configuration {
        try S3Configuration.fromEnvironment(endpoint: s3Endpoint)
    }

    func store(_ location: String) throws -> any ObjectStore {
        try ObjectStores.open(try ObjectLocation(parsing: location), s3: try s3())
    }
}
