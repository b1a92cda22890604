import Common
import Foundation
import TestSupport
import Testing

@Suite("Services fail fast on a missing broker and stop cleanly on SIGTERM")
struct ServiceFailureTests {
    static let unreachable = ["--brokers", "127.0.0.1:1", "--connect-timeout", "2", "-X", "log_level=0"]

    @Test(arguments: [
        ["extract"], ["reduce", "--output", NSTemporaryDirectory() + "fruits-unreachable"], ["ingest", NSTemporaryDirectory()],
    ])
    func unreachableBrokerExitsNonZeroWithinABound(command: [String]) throws {
        let started = ContinuousClock.now
        let result = try Tools.run(Tools.fruits, command + Self.unreachable)
        #expect(result.status != 0)
        #expect(result.output.contains("no Kafka broker answered at 127.0.0.1:1"), "\(result.output.suffix(500))")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func sigtermStopsAnIdleExtractorWithExitZero() throws {
        let broker = try Broker()
        let extractor = Process()
        extractor.executableURL = URL(fileURLWithPath: Tools.fruits)
        extractor.arguments = ["extract", "--brokers", broker.bootstrap, "--threads", "1"]
        let errors = Pipe()
        extractor.standardError = errors
        try extractor.run()
        // Wait until it has joined, then ask it to stop.
        var log = ""
        while !log.contains("extractor joined group") {
            let chunk = errors.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "the extractor exited early: \(log)")
            log += String(decoding: chunk, as: UTF8.self)
        }
        let stopping = ContinuousClock.now
        extractor.terminate()
        extractor.waitUntilExit()
        #expect(extractor.terminationStatus == 0)
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
        try producer.close()

        let output = Tools.temporaryPath("sigterm-results")
        let port = Tools.freePort()
        let reducer = try PipelineTests.service(
            ["reduce", "--brokers", broker.bootstrap, "--output", output, "--flush-records", "1000", "--flush-seconds", "600",
             "--metrics-port", "\(port)"], environment: [:])
        try CrashTests.waitUntil("the reducer holds the 5 records") {
            CrashTests.metric("fruits_reducer_pending_records", port: port) == 5
        }
        let stopping = ContinuousClock.now
        reducer.terminate()
        reducer.waitUntilExit()
        #expect(reducer.terminationStatus == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15))
        let store = try LocalObjectStore(root: output)
        #expect(try store.list(prefix: "features/").map(\.key) == ["features/part-000001.parquet"])
        #expect(try store.getIfPresent("_checkpoint/reducer.ckpt") != nil)
        withExtendedLifetime(broker) {}
    }

    @Test func sigtermStopsTheUploadEndpointWithExitZero() throws {
        let broker = try Broker()
        let port = Tools.freePort()
        let server = try PipelineTests.service(
            ["ingest", "serve", "--brokers", broker.bootstrap, "--store", Tools.temporaryPath("sigterm-uploads"), "--port", "\(port)"],
            environment: ["FRUITS_UPLOAD_TOKEN": "sigterm-test-token"])
        try CrashTests.waitUntil("the endpoint answers /healthz") {
            (try? CurlHTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/healthz")).status) == 200
        }
        let stopping = ContinuousClock.now
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15))
        withExtendedLifetime(broker) {}
    }
}
