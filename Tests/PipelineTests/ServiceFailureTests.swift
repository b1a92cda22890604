import Events
import Foundation
import Kafka
import ObjectStorage
import Reducer
import Results
import TestSupport
import Testing

@Suite("Services fail fast on a missing broker and stop cleanly on SIGTERM", .tags(.integration), .usesFruitsBinary)
struct ServiceFailureTests {
    static let unreachable = ["--brokers", "127.0.0.1:1", "--connect-timeout", "2", "-X", "log_level=0"]

    @Test(arguments: [
        ["extract"], ["reduce", "--output", NSTemporaryDirectory() + "fruits-unreachable"], ["ingest", NSTemporaryDirectory()],
    ])
    func unreachableBrokerExitsNonZeroWithinABound(command: [String]) async throws {
        let started = ContinuousClock.now
        let result = try await Tools.run(Tools.fruits, command + Self.unreachable)
        #expect(result.status != 0)
        #expect(result.output.contains("no Kafka broker answered at 127.0.0.1:1"), "\(result.output.suffix(500))")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    /// Credentials are the service's business, not the images': an extractor
    /// without them stops with a message and turns no photo into a dead
    /// letter; a well-configured one then extracts every photo.
    @Test func anExtractorWithoutCredentialsStopsAndDeadLettersNothing() async throws {
        let server = try await S3TestServer.shared()
        let (bucket, _) = try await PipelineTests.uploadImages(count: 10, to: try server.client())
        let broker = try Broker()
        let brokers = ["--brokers", broker.bootstrap]
        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + brokers + ["s3://\(bucket)/Test/"], environment: server.environment)
        try #require(ingest.status == 0, "\(ingest.output)")

        let noCredentials = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                             "AWS_EC2_METADATA_DISABLED": "true"]
        // No endpoint named: the first s3:// photo stops it. An endpoint named: it stops at start.
        for endpoint in ["", server.endpoint] {
            let started = ContinuousClock.now
            let extractor = try await Tools.run(Tools.fruits, ["extract"] + brokers,
                                          environment: noCredentials.merging(["AWS_ENDPOINT_URL": endpoint]) { $1 }, timeout: .seconds(60))
            #expect(extractor.status != 0)
            #expect(extractor.output.contains("no AWS credentials"), "\(extractor.output.suffix(1000))")
            #expect(!extractor.output.contains("dead letter"), "\(extractor.output.suffix(1000))")
            #expect(ContinuousClock.now - started < .seconds(30))
        }

        let good = try PipelineTests.service(["extract"] + brokers, environment: server.environment)
        defer { Tools.reap([good]) }
        let reduce = try await Tools.run(Tools.fruits, ["reduce"] + brokers + ["--output", "s3://\(bucket)/Results/", "--expect-images", "10"],
                                   environment: server.environment, timeout: .seconds(120))
        try #require(reduce.status == 0, "\(reduce.output.suffix(2000))")
        let check = try await PipelineTests.checkResults(bucket: bucket, server: server)
        #expect(check.status == 0, "\(check.output)")
        let store = S3ObjectStore(client: try server.client(), bucket: bucket, prefix: "Results/")
        #expect(try await store.list(prefix: "deadletters/").isEmpty)
    }

    /// S3 refuses every object once the extractor has read one (a role that
    /// lost s3:GetObject): the object it read before is refused too, so it
    /// stops (exit 1, batch uncommitted) and turns no photo into a dead letter.
    @Test(.timeLimit(.minutes(3)))
    func anExtractorDeniedEveryObjectStopsAndDeadLettersNothing() async throws {
        let server = try await S3TestServer.shared()
        let client = try server.client()
        let (bucket, _) = try await PipelineTests.uploadImages(count: 10, to: client)
        let first = try #require(try await client.listAllObjects(bucket: bucket, prefix: "Test/").first)
        try await client.putObject(bucket: bucket, key: "First/one.jpg", body: try await client.getObject(bucket: bucket, key: first.key))
        let broker = try Broker()
        let brokers = ["--brokers", broker.bootstrap]
        let port = Tools.freePort()
        async let extractor = Tools.run(Tools.fruits, ["extract"] + brokers + ["--metrics-port", "\(port)"],
                                        environment: server.environment.merging(["AWS_ENDPOINT_URL": server.faultEndpoint]) { $1 },
                                        timeout: .seconds(120))
        let ingestFirst = try await Tools.run(Tools.fruits, ["ingest"] + brokers + ["s3://\(bucket)/First/"], environment: server.environment)
        try #require(ingestFirst.status == 0, "\(ingestFirst.output)")
        try await Tools.waitUntil("the extractor read the first image") {
            await Tools.metric("fruits_images_processed_total", port: port) == 1
        }
        try await server.fail(["\(bucket)/*": .init(403, "AccessDenied", "Access Denied")])
        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + brokers + ["s3://\(bucket)/Test/"], environment: server.environment)
        try #require(ingest.status == 0, "\(ingest.output)")

        let stopped = try await extractor
        #expect(stopped.status != 0)
        #expect(stopped.output.contains("S3 denied access") && stopped.output.contains("refused too"), "\(stopped.output.suffix(1500))")
        #expect(!stopped.output.contains("dead letter"), "\(stopped.output.suffix(1500))")
    }

    @Test func sigtermStopsAnIdleExtractorWithExitZero() async throws {
        let broker = try Broker()
        let extractor = Process()
        extractor.executableURL = URL(fileURLWithPath: Tools.fruits)
        extractor.arguments = ["extract", "--brokers", broker.bootstrap]
        let errors = Pipe()
        extractor.standardError = errors
        try extractor.run()
        // Wait until it has joined, then ask it to stop.
        var log = ""
        while !log.contains("partitions assigned") {
            let chunk = errors.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "the extractor exited early: \(log)")
            log += String(decoding: chunk, as: UTF8.self)
        }
        let stopping = ContinuousClock.now
        #expect(try await Tools.stop(extractor, "the idle extractor") == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15))
        withExtendedLifetime(broker) {}
    }

    /// The reducer stops on SIGTERM with records read but not flushed: it
    /// writes them (part and checkpoint) before it exits 0.
    @Test func sigtermMakesTheReducerFlushWhatItHoldsAndExitZero() async throws {
        let broker = try Broker()
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: broker.bootstrap))
        for index in 0..<5 {
            var event = Fruits_V1_FeatureEvent()
            event.uri = "file:///photos/\(index).jpg"
            event.imageID = EventIdentity.imageID(uri: event.uri)
            event.label = "Apple"
            event.features = [Float](repeating: Float(index), count: 1280)
            _ = try await producer.send(topic: PipelineTopics().features, key: Array(event.imageID.utf8), value: try event.serializedBytes())
        }
        try await producer.close()

        let output = Tools.temporaryPath("sigterm-results")
        let port = Tools.freePort()
        let reducer = try PipelineTests.service(
            ["reduce", "--brokers", broker.bootstrap, "--output", output, "--flush-records", "1000", "--flush-seconds", "600",
             "--metrics-port", "\(port)"], environment: [:])
        try await Tools.waitUntil("the reducer holds the 5 records") {
            await Tools.metric("fruits_reducer_pending_records", port: port) == 5
        }
        let stopping = ContinuousClock.now
        #expect(try await Tools.stop(reducer, "the reducer") == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15))
        let store = try LocalObjectStore(root: output)
        #expect(try await store.list(prefix: "features/").map(\.key).map { FlushName(key: $0)?.sequence } == [1])
        #expect(try await store.getIfPresent("_checkpoint/reducer.ckpt") != nil)
        withExtendedLifetime(broker) {}
    }

    @Test func sigtermStopsTheUploadEndpointWithExitZero() async throws {
        let broker = try Broker()
        let port = Tools.freePort()
        let server = try PipelineTests.service(
            ["ingest", "serve", "--brokers", broker.bootstrap, "--store", Tools.temporaryPath("sigterm-uploads"), "--port", "\(port)"],
            environment: ["FRUITS_UPLOAD_TOKEN": "sigterm-test-token"])
        try await Tools.waitUntil("the endpoint answers /healthz") {
            await (try? Tools.http.perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/healthz")).status) == 200
        }
        let stopping = ContinuousClock.now
        #expect(try await Tools.stop(server, "the upload endpoint") == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15))
        withExtendedLifetime(broker) {}
    }
}

extension ServiceFailureTests {
    /// `fruits run` killed with SIGKILL takes its extractor processes with it.
    @Test func extractorsOfAKilledRunStopToo() async throws {
        let images = Tools.temporaryPath("orphans-\(UUID().uuidString.prefix(8))")
        let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                      "--out", images, "--n", "400"])
        try #require(generated.status == 0, "\(generated.output)")
        let run = try PipelineTests.service(["run", "--input", images, "--output", images + "-results", "--extractors", "2"],
                                            environment: [:])
        var children: [Int32] = []
        try await Tools.waitUntil("fruits run has started its extractors", timeout: .seconds(60)) {
            children = Self.children(of: run.processIdentifier)
            return children.count == 2
        }
        Tools.killHard(run)
        try await Tools.waitUntil("the extractors have stopped", timeout: .seconds(10)) {
            children.allSatisfy { !Self.isAlive($0) }
        }
    }

    /// Processes whose parent is `pid`, from /proc.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// Running or sleeping; a zombie waiting for init to reap it counts as stopped.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }
}
