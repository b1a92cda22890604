import ArgumentParser
import Foundation
import Kafka
import KafkaAWS
import Logging
import ObjectStorage
import Synchronization

/// How the Kafka clients authenticate and which CA signs the brokers' certificates.
struct KafkaSecurityOptions: ParsableArguments {
    @Option(help: "Kafka authentication: none, or aws-msk-iam (MSK IAM tokens signed with the AWS credential chain) (default: $FRUITS_KAFKA_AUTH, else none).")
    var kafkaAuth: String?

    @Option(help: "The MSK cluster's AWS region, for aws-msk-iam (default: $FRUITS_AWS_REGION, else $AWS_REGION).")
    var awsRegion: String?

    @Option(help: "PEM file of the CA that signs the brokers' certificates, for TLS (default: $FRUITS_KAFKA_CA_FILE, else the system's; -X ssl.ca.location wins).")
    var kafkaCaFile: String?

    private static let logger = Logger(label: "fruits.kafka")

    /// Sets `ssl.ca.location` and the authentication; the operator's `-X`
    /// properties are applied after, and win.
    func apply(to configuration: inout KafkaConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func value(_ option: String?, _ names: String...) -> String? {
            ([option] + names.map { environment[$0] }).lazy.compactMap { $0 }.first { !$0.isEmpty }
        }
        if let caFile = value(kafkaCaFile, "FRUITS_KAFKA_CA_FILE") {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw ValidationError("--kafka-ca-file/FRUITS_KAFKA_CA_FILE: cannot read \(caFile)")
            }
            configuration["ssl.ca.location"] = caFile
        }
        switch value(kafkaAuth, "FRUITS_KAFKA_AUTH") ?? "none" {
        case "none":
            break
        case "aws-msk-iam":
            guard let region = value(awsRegion, "FRUITS_AWS_REGION", "AWS_REGION") else {
                throw ValidationError("--kafka-auth aws-msk-iam needs the cluster's region: pass --aws-region or set FRUITS_AWS_REGION or AWS_REGION")
            }
            do {
                configuration.authentication = try .awsMSKIAM(
                    region: region, credentials: try AWSCredentialChain.fromEnvironment(environment), logger: Self.logger)
            } catch {
                throw ValidationError("--kafka-auth aws-msk-iam: \(error)")
            }
        case let other:
            throw ValidationError("--kafka-auth/FRUITS_KAFKA_AUTH is none or aws-msk-iam, not \(other)")
        }
    }

    private static let warned = Mutex<Set<String>>([])

    /// Each way `configuration` weakens TLS, logged once per process.
    static func warn(about configuration: KafkaConfiguration) {
        for warning in configuration.securityWarnings where warned.withLock({ $0.insert(warning).inserted }) {
            logger.warning("Kafka transport security lowered by configuration: \(warning)")
        }
    }
}
