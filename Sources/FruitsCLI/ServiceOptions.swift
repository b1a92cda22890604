import ArgumentParser
import Common
import Foundation
import Kafka
import Logging
import ObjectStorage
import Observability
import ServiceLifecycle

/// Broker, topic and S3 options shared by the pipeline's services.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers (default: $FRUITS_BROKERS).")
    var brokers: String?

    @Option(name: [.customShort("X"), .long], help: "A librdkafka property, key=value (repeatable; also $FRUITS_KAFKA_PROPERTIES, one per line).")
    var kafkaProperty: [String] = []

    @OptionGroup var kafkaSecurity: KafkaSecurityOptions

    @OptionGroup var storage: StorageOptions

    @Option(help: "Seconds to wait for a broker at start before giving up.")
    var connectTimeout: Int = 15

    @Option(help: "Serve Prometheus metrics at http://0.0.0.0:PORT/metrics (0: off).")
    var metricsPort: Int = 0

    func validate() throws {
        guard (1...600).contains(connectTimeout) else {
            throw ValidationError("--connect-timeout must be from 1 to 600 seconds, not \(connectTimeout)")
        }
        guard (0...65_535).contains(metricsPort) else {
            throw ValidationError("--metrics-port must be a TCP port from 1 to 65535, or 0 for no metrics endpoint; not \(metricsPort)")
        }
    }

    /// Fails fast when no broker answers within --connect-timeout.
    func checkBroker(_ check: (Duration) async throws -> Void) async throws {
        try await check(.seconds(connectTimeout))
    }

    /// The service plus, when asked for, the metrics endpoint, run until
    /// SIGTERM/SIGINT; the main service finishing ends the group.
    ///
    /// A graceful shutdown gets `gracePeriod` (keep it below the supervisor's,
    /// e.g. Kubernetes' terminationGracePeriodSeconds), then the tasks are
    /// cancelled, and 5 s later the process stops hard: with the broker or S3
    /// gone, a delivery or a flush could otherwise wait minutes. Nothing is
    /// lost by stopping hard: uncommitted records are read again.
    /// Runs `main` and `others` until a signal, or until `main` ends.
    func runServices(_ main: some Service, others: [any Service] = [], gracePeriod: Duration, logger: Logger) async throws {
        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: main, successTerminationBehavior: .gracefullyShutdownGroup)]
        services += others.map { .init(service: $0) }
        if metricsPort > 0 {
            services.append(.init(service: MetricsServer(port: metricsPort, logger: logger)))
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = gracePeriod
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }

    func kafka() throws -> KafkaConfiguration {
        guard let brokers = brokers ?? ProcessInfo.processInfo.environment["FRUITS_BROKERS"], !brokers.isEmpty else {
            throw ValidationError("no Kafka brokers: pass --brokers host:port or set FRUITS_BROKERS")
        }
        var configuration = KafkaConfiguration(bootstrapServers: brokers)
        try kafkaSecurity.apply(to: &configuration)
        try configuration.apply(overrides: environmentKafkaProperties + kafkaProperty)
        _ = try configuration.effectiveProperties()  // a contradiction with --kafka-auth fails here, before any client
        KafkaSecurityOptions.warn(about: configuration)
        return configuration
    }

    /// `FRUITS_KAFKA_PROPERTIES`: librdkafka properties, one `key=value` per
    /// line, for deployments that configure by environment; `-X` wins.
    var environmentKafkaProperties: [String] {
        (ProcessInfo.processInfo.environment["FRUITS_KAFKA_PROPERTIES"] ?? "")
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Where objects live: S3 (AWS, MinIO, a test server) or a directory.
struct StorageOptions: ParsableArguments {
    @Option(help: "S3 endpoint for MinIO or a test server (default: $AWS_ENDPOINT_URL; AWS when unset).")
    var s3Endpoint: String?

    /// The S3 endpoint named by `--s3-endpoint` or `AWS_ENDPOINT_URL[_S3]`, if any.
    var s3EndpointDescription: String? { S3Configuration.endpointURL(override: s3Endpoint) }

    func s3() throws -> S3Configuration {
        try S3Configuration.fromEnvironment(endpoint: s3Endpoint)
    }

    /// The store at `location`; an error names it (never a credential).
    func store(_ location: String) throws -> any ObjectStore {
        do {
            return try ObjectStores.open(try ObjectLocation(parsing: location), s3: try s3())
        } catch {
            throw RunError(message: "cannot use the store \(location): \(error)")
        }
    }
}
