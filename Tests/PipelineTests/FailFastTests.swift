import Foundation
import TestSupport
import Testing

/// Misconfiguration stops a service at start with one line naming what is
/// missing, instead of passing health checks and failing every request.
@Suite("Services refuse to start misconfigured, and say why without secrets", .tags(.integration), .usesFruitsBinary)
struct FailFastTests {
    static let noCredentials = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                                "AWS_EC2_METADATA_DISABLED": "true", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": ""]

    /// `ingest serve` once came up healthy with an S3 store it could not
    /// write to and answered 500 to every upload; `fruits answer` answered
    /// "done, no model" for ever. Both now exit 1 at start.
    @Test(arguments: [["ingest", "serve", "--store", "s3://photos/"], ["answer", "--results", "s3://photos/Results/"]])
    func aStoreWithoutCredentialsStopsTheServiceAtStart(command: [String]) async throws {
        let server = try await S3TestServer.shared()
        let broker = try Broker()
        let started = ContinuousClock.now
        let port = command[0] == "ingest" ? ["--port", "\(Tools.freePort())"] : []
        let run = try await Tools.run(Tools.fruits, command + ["--brokers", broker.bootstrap] + port,
                                      environment: Self.noCredentials.merging(["AWS_ENDPOINT_URL": server.endpoint, "FRUITS_UPLOAD_TOKEN": "t0ken"]) { $1 },
                                      timeout: .seconds(60))
        #expect(run.status == 1, "\(run.output.suffix(1500))")
        #expect(run.output.contains("no AWS credentials"), "\(run.output.suffix(1500))")
        #expect(run.output.contains("s3://photos/"), "the message names the store: \(run.output.suffix(1500))")
        #expect(ContinuousClock.now - started < .seconds(30))
        withExtendedLifetime(broker) {}
    }

    /// A malformed -X or FRUITS_KAFKA_PROPERTIES line may be a secret typed
    /// with the wrong separator: the error names its position, not its text.
    @Test func aMalformedKafkaPropertyIsNotEchoed() async throws {
        let secret = "hunter2-kafka-secret"
        let flag = try await Tools.run(Tools.fruits, ["extract", "-X", "sasl.password:\(secret)", "--brokers", "127.0.0.1:1"], timeout: .seconds(30))
        #expect(flag.status != 0 && flag.output.contains("is not key=value"), "\(flag.output.suffix(800))")
        let environment = try await Tools.run(Tools.fruits, ["extract", "--brokers", "127.0.0.1:1"], environment: ["FRUITS_KAFKA_PROPERTIES": "sasl.password \(secret)"],
                                              timeout: .seconds(30))
        #expect(environment.status != 0 && environment.output.contains("is not key=value"), "\(environment.output.suffix(800))")
        // A value librdkafka refuses would be quoted in its message: the key is named, the value masked.
        let rejected = try await Tools.run(Tools.fruits, ["extract", "-X", "security.protocol=\(secret)", "-X", "sasl.password=\(secret)",
                                                          "--brokers", "127.0.0.1:1"], timeout: .seconds(30))
        #expect(rejected.status != 0 && rejected.output.contains("Kafka property security.protocol was rejected"), "\(rejected.output.suffix(800))")
        for run in [flag, environment, rejected] { #expect(!run.output.contains(secret), "\(run.output.suffix(800))") }
    }

    /// Run from another directory, the extractor once printed an
    /// NSCocoaErrorDomain dump; it names the file it looked for and how to get it.
    @Test func missingWeightsSayWhereTheyWereLookedForAndHowToGetThem() async throws {
        let run = try await Tools.run(Tools.fruits, ["extract", "--brokers", "127.0.0.1:1"], environment: ["FRUITS_WEIGHTS": ""],
                                      timeout: .seconds(30), directory: NSTemporaryDirectory())
        #expect(run.status == 1, "\(run.output.suffix(800))")
        let line = run.output.split(separator: "\n").last { $0.hasPrefix("Error: ") } ?? ""
        #expect(line.contains("models/mobilenet_v2_1.0_224.fw") && line.contains("scripts/fetch-weights")
                && line.contains("--weights") && line.contains("FRUITS_WEIGHTS") && !line.contains("NSCocoaErrorDomain"), "\(line)")
    }
}
