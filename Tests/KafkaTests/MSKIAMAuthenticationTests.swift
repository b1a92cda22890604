import Foundation
import Kafka
import KafkaAWS
import Logging
import ObjectStorage
import Synchronization
import TestSupport
import Testing

@Suite("MSK IAM authentication: tokens from the credential chain, nothing secret in logs or errors", .tags(.integration), .serialized)
struct MSKIAMAuthenticationTests {
    /// A box the log handler and the test share.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func waitFor(_ text: String, within seconds: Double) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while !all.contains(where: { $0.contains(text) }) && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return all.contains { $0.contains(text) }
        }
    }

    static func logger(_ lines: Lines) -> Logger {
        var logger = Logger(label: "capture") { _ in CaptureInto(lines) }
        logger.logLevel = .trace
        return logger
    }

    /// Every token is base64url of "https://kafka.": it starts with this.
    static let tokenPrefix = String(Data("https://kafka.".utf8).base64EncodedString().prefix(16))
    static let secret = "wJalrXUtnFEMI/K7MDENG/SECRET-KEY-MARKER"
    static let session = "SESSION-TOKEN-MARKER+/="

    @Test func aTokenIsMadeAndNoSecretReachesTheLogsOrTheErrors() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let lines = Lines()
        var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers,
                                               ["security.protocol": "SASL_PLAINTEXT", "log_level": "0"])
        configuration.authentication = try .awsMSKIAM(
            region: "eu-west-1", credentials: AWSCredentials(accessKeyID: "ASIATESTKEY", secretAccessKey: Self.secret, sessionToken: Self.session),
            logger: Self.logger(lines))
        let admin = try KafkaAdmin(configuration: configuration)
        #expect(try await lines.waitFor("Kafka token refreshed (MSK IAM)", within: 10), "\(lines.all)")
        // The mock cluster speaks no SASL: the metadata request cannot succeed.
        let error = try await thrownKafkaError { _ = try await admin.topics(timeout: .seconds(2)) }
        let output = lines.all + ["\(error)"]
        for secret in [Self.secret, Self.session, Self.tokenPrefix, "X-Amz-Signature"] {
            #expect(!output.contains { $0.contains(secret) }, "\(secret) in \(output)")
        }
    }

    @Test func aCredentialFailureIsAWarningWithItsReasonAndAStartError() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let lines = Lines()
        let failing = RefreshingCredentials(source: "instance metadata") {
            throw S3Error.credentialSource("instance metadata (IMDSv2) at http://127.0.0.1:9", "HTTP 500: try later")
        }
        var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers,
                                               ["security.protocol": "SASL_PLAINTEXT", "log_level": "0"])
        configuration.authentication = try .awsMSKIAM(region: "eu-west-1", credentials: failing, logger: Self.logger(lines))
        let producer = try KafkaProducer(configuration: configuration)
        let error = try await thrownKafkaError { try await producer.checkReachable(timeout: .seconds(10)) }
        #expect(error.kind == .authentication)
        #expect("\(error)".contains("no AWS credentials from instance metadata (IMDSv2) at http://127.0.0.1:9: HTTP 500: try later"), "\(error)")
        #expect(try await lines.waitFor("warning no Kafka token (MSK IAM)", within: 5), "\(lines.all)")
        try await producer.close(timeout: .seconds(1))
    }

    @Test func aRegionThatIsNotOneIsRefusedAtConfiguration() {
        #expect(throws: MSKIAMTokenError.self) {
            try KafkaAuthentication.awsMSKIAM(region: "eu-west-1.evil.example", credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S"),
                                              logger: Logger(label: "test"))
        }
    }
}

/// Appends every line to a shared `Lines`.
struct CaptureInto: LogHandler {
    let lines: MSKIAMAuthenticationTests.Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(_ lines: MSKIAMAuthenticationTests.Lines) { self.lines = lines }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let all = self.metadata.merging(metadata ?? [:]) { $1 }
        lines.lines.withLock { $0.append("\(level) \(message) \(all)") }
    }
}
