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

    /// The line a person reads: from the last "Error: " to the end of its
    /// line (librdkafka's own log lines, written from its threads, may share it).
    static func errorLine(_ output: String) -> String {
        guard let start = output.range(of: "Error: ", options: .backwards) else { return "" }
        return String(output[start.lowerBound...].prefix { $0 != "\n" })
    }

    /// A flag value out of range stops the command before it opens weights,
    /// brokers or stores (exit 64, usage), naming the flag and its range.
    @Test(arguments: [
        (["extract", "--connect-timeout=0"], "Error: --connect-timeout must be from 1 to 600 seconds, not 0"),
        (["reduce", "--output", "/nonexistent/results", "--metrics-port", "70000"],
         "Error: --metrics-port must be a TCP port from 1 to 65535, or 0 for no metrics endpoint; not 70000"),
        (["extract", "--batch", "0"], "Error: --batch must be at least 1"),
        (["extract", "--batch", "4"], "Error: --batch is 1 in extract and run (each photo goes to a worker as it arrives); larger batches are for featurize and bench extract"),
        (["extract", "--workers", "0"], "Error: --workers must be at least 1"),
    ])
    func flagValuesOutOfRangeNameTheFlagAndItsRange(arguments: [String], message: String) async throws {
        let run = try await Tools.run(Tools.fruits, arguments + ["--brokers", "127.0.0.1:1"], environment: ["FRUITS_WEIGHTS": ""],
                                      timeout: .seconds(30), directory: NSTemporaryDirectory())
        #expect(run.status == 64, "\(run.output.suffix(800))")
        #expect(Self.errorLine(run.output) == message, "\(run.output.suffix(800))")
    }

    /// No broker at the address: one line naming it and what to check, after --connect-timeout.
    @Test func noBrokerNamesTheAddressAndWhatToCheck() async throws {
        let run = try await Tools.run(Tools.fruits, ["reduce", "--output", Tools.temporaryPath("no-broker"), "--brokers", "127.0.0.1:1",
                                                     "--connect-timeout", "1"], timeout: .seconds(60))
        #expect(run.status == 1, "\(run.output.suffix(800))")
        let line = Self.errorLine(run.output)
        #expect(line.contains("no Kafka broker answered at 127.0.0.1:1 within 1.0 seconds") && line.contains("check --brokers/FRUITS_BROKERS"),
                "\(run.output.suffix(1500))")
    }

    /// No credentials anywhere, the instance metadata service (looked at
    /// last) included: one sentence saying what to set, then why the
    /// service gave none; it once read "no AWS credentials from no AWS credentials: …: and …".
    @Test func noCredentialsAnywhereSaysWhatToSet() async throws {
        let server = try await S3TestServer.shared()
        let broker = try Broker()
        let environment = Self.noCredentials.merging([
            "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1", "AWS_ENDPOINT_URL": server.endpoint,
        ]) { $1 }
        let run = try await Tools.run(Tools.fruits, ["answer", "--results", "s3://photos/Results/", "--brokers", broker.bootstrap],
                                      environment: environment, timeout: .seconds(60))
        #expect(run.status == 1, "\(run.output.suffix(1500))")
        let line = Self.errorLine(run.output)
        #expect(line.contains("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), "\(line)")
        #expect(line.contains("the instance metadata service gave none either (") && line.contains("127.0.0.1:1"), "\(line)")
        #expect(line.components(separatedBy: "no AWS credentials").count == 3, "said once, and once by the metadata service: \(line)")
        withExtendedLifetime(broker) {}
    }
}
