import Foundation
import Kafka
import TestSupport
import Testing

/// The `fruits` command's Kafka security options, run as the deployment runs
/// them (environment of overlays/aws) against the embedded cluster, which
/// speaks no SASL: each run ends in an error, and what it prints is checked.
/// Needs the `fruits` executable of this build.
@Suite("fruits --kafka-auth aws-msk-iam and TLS options, end to end", .tags(.integration), .usesFruitsBinary, .serialized)
struct KafkaAuthCommandTests {
    static let secret = "SECRET-KEY-MARKER/+="
    static let session = "SESSION-TOKEN-MARKER"

    /// No AWS or fruits setting of the developer's leaks in; empty counts as unset.
    static func environment(_ settings: [String: String]) -> [String: String] {
        let home = Tools.temporaryPath("kafka-auth-home")
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // IMDS stays on (scripts/test turns it off for the other tests) and points at a closed local port.
        var environment = ["HOME": home, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "false"]
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
                     "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_SHARED_CREDENTIALS_FILE", "FRUITS_KAFKA_AUTH", "FRUITS_AWS_REGION",
                     "FRUITS_KAFKA_PROPERTIES", "FRUITS_KAFKA_CA_FILE", "FRUITS_BROKERS"] {
            environment[name] = ""
        }
        return environment.merging(settings) { $1 }
    }

    static func describe(_ cluster: EmbeddedKafkaCluster, _ arguments: [String] = [], _ settings: [String: String]) async throws
        -> (status: Int32, output: String) {
        try await Tools.run(Tools.fruits, ["topics", "describe", "--brokers", cluster.bootstrapServers, "--connect-timeout", "2"] + arguments,
                            environment: environment(settings), timeout: .seconds(60))
    }

    @Test func theDeploymentsSettingsMakeTokensAndPrintNoSecret() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let run = try await Self.describe(cluster, [], [
            "FRUITS_KAFKA_AUTH": "aws-msk-iam", "FRUITS_AWS_REGION": "eu-west-1",
            "FRUITS_KAFKA_PROPERTIES": "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\ndebug=security",
            "AWS_ACCESS_KEY_ID": "ASIAKEYMARKER", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.session,
        ])
        #expect(run.status != 0)
        // librdkafka's security debug log shows it got past the token to the
        // broker, which has no SASL handshake to offer.
        #expect(run.output.contains("SASL Handshake not supported by broker"), "\(run.output.suffix(3000))")
        #expect(run.output.contains("security.protocol=SASL_PLAINTEXT: the SASL credentials or tokens cross the network unencrypted"))
        let tokenPrefix = String(Data("https://kafka.".utf8).base64EncodedString().prefix(16))
        for secret in [Self.secret, Self.session, tokenPrefix, "X-Amz-Signature"] {
            #expect(!run.output.contains(secret), "\(secret) printed")
        }
    }

    @Test func withoutRegionOrCredentialsTheCommandStopsWithTheReason() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let noRegion = try await Self.describe(cluster, ["--kafka-auth", "aws-msk-iam"], ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"])
        #expect(noRegion.status == 64)
        #expect(noRegion.output.contains("Error: --kafka-auth aws-msk-iam needs the cluster's region"), "\(noRegion.output)")

        let noCredentials = try await Self.describe(cluster, ["--kafka-auth", "aws-msk-iam", "--aws-region", "eu-west-1",
                                                              "-X", "security.protocol=SASL_PLAINTEXT"], [:])
        #expect(noCredentials.status == 1)
        #expect(noCredentials.output.contains("Error: cannot authenticate to Kafka at \(cluster.bootstrapServers): no OAUTHBEARER token: "),
                "\(noCredentials.output)")
        #expect(noCredentials.output.contains("instance metadata (IMDSv2) at http://127.0.0.1:9"))

        let contradiction = try await Self.describe(cluster, ["--kafka-auth", "aws-msk-iam", "--aws-region", "eu-west-1",
                                                              "-X", "security.protocol=SSL"], ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"])
        #expect(contradiction.output.contains("OAUTHBEARER tokens need security.protocol SASL_SSL, not SSL"), "\(contradiction.output)")
    }

    @Test func loweredTLSIsAWarningAndTheCAFileMustExist() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let unverified = try await Self.describe(cluster, ["-X", "security.protocol=SSL", "-X", "enable.ssl.certificate.verification=false",
                                                           "-X", "ssl.endpoint.identification.algorithm=none"], [:])
        let warnings = unverified.output.split(separator: "\n").filter { $0.contains("warning") && $0.contains("transport security lowered") }
        #expect(warnings.count == 2, "\(unverified.output)")
        let missing = try await Self.describe(cluster, [], ["FRUITS_KAFKA_CA_FILE": "/nonexistent/ca.pem"])
        #expect(missing.status == 64 && missing.output.contains("Error: --kafka-ca-file/FRUITS_KAFKA_CA_FILE: cannot read /nonexistent/ca.pem"))
    }
}
