import Common
import Foundation
import ObjectStorage
import Parquet
import TestSupport
import Testing

/// The pipeline as operators run it: separate processes on the embedded
/// broker over TCP and the loopback S3 server over HTTP with SigV4.
@Suite("Pipeline end to end: S3 → ingest → 2 extractors → reducer → S3 Results", .tags(.integration), .usesFruitsBinary, .serialized)
struct PipelineTests {
    static func service(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.fruits)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let path = Tools.temporaryPath("pipeline.log")
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let log = FileHandle(forWritingAtPath: path) ?? FileHandle.nullDevice
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    /// Uploads `count` generated fruit photos under `Test/<label>/` and returns the bucket.
    static func uploadImages(count: Int, to client: S3Client) async throws -> (bucket: String, directory: String) {
        let directory = Tools.temporaryPath("images-\(UUID().uuidString.prefix(8))")
        let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                      "--out", directory, "--n", "\(count)"])
        try #require(generated.status == 0, "\(generated.output)")
        let bucket = "fruits-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        let store = try LocalObjectStore(root: directory)
        let files = try await store.list(prefix: "")
        _ = try await ConcurrentMap.map(files, parallelism: 8) { file in
            try await client.putObject(bucket: bucket, key: "Test/" + file.key, body: try await store.get(file.key), contentType: "image/jpeg")
        }
        return (bucket, directory)
    }

    /// tools/check_results.py over `s3://bucket/Results/` against `s3://bucket/Test/`.
    static func checkResults(bucket: String, server: S3TestServer) async throws -> (status: Int32, output: String) {
        try await Tools.run(Tools.python, [
            Tools.root.appendingPathComponent("tools/check_results.py").path,
            "--results", "s3://\(bucket)/Results/", "--images", "s3://\(bucket)/Test/", "--endpoint", server.endpoint,
        ], environment: server.environment)
    }

    @Test func twoHundredImagesFromS3ToS3Results() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Tools.fruits), "build fruits first (scripts/test does)")
        let server = try await S3TestServer.shared()
        let client = try server.client()
        let (bucket, _) = try await Self.uploadImages(count: 200, to: client)
        let broker = try Broker()
        let common = ["--brokers", broker.bootstrap, "--s3-endpoint", server.endpoint]
        let environment = server.environment

        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + common + ["s3://\(bucket)/Test/"], environment: environment)
        try #require(ingest.status == 0, "\(ingest.output)")
        #expect(ingest.output.contains("200 image events"))

        let metricsPorts = (0..<2).map { _ in Tools.freePort() }
        let extractors = try metricsPorts.map { port in
            try Self.service(["extract"] + common + ["--metrics-port", "\(port)"], environment: environment)
        }
        let reduce = try await Tools.run(Tools.fruits, ["reduce"] + common + [
            "--output", "s3://\(bucket)/Results/", "--exit-when-idle", "10", "--flush-records", "64", "--pca-k", "16",
        ], environment: environment)
        // Both extractors worked, as their Prometheus counters say.
        for port in metricsPorts {
            let processed = await Tools.metric("fruits_images_processed_total", port: port) ?? 0
            #expect(processed > 0, "the extractor with metrics on port \(port) processed \(processed) images")
        }
        for extractor in extractors { extractor.terminate() }
        for extractor in extractors {
            #expect(try await Tools.exitStatus(of: extractor, "an extractor told to stop") == 0, "extractors exit 0 on SIGTERM")
        }
        try #require(reduce.status == 0, "\(reduce.output)")

        let check = try await PipelineTests.checkResults(bucket: bucket, server: server)
        #expect(check.status == 0, "\(check.output)")
        withExtendedLifetime(broker) {}
    }

    /// `fruits run` into results that already hold other images adds its own
    /// and stops only when they are in; run again, it adds nothing twice.
    @Test func runsIntoExistingResultsAddTheirImagesOnce() async throws {
        let output = Tools.temporaryPath("run-results-\(UUID().uuidString.prefix(8))")
        var inputs: [String] = []
        for (count, seed) in [(12, 1), (8, 2)] {
            let directory = Tools.temporaryPath("run-input-\(seed)-\(UUID().uuidString.prefix(8))")
            let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                               "--out", directory, "--n", "\(count)", "--seed", "\(seed)"])
            try #require(generated.status == 0, "\(generated.output)")
            inputs.append(directory)
        }
        let weights = Tools.weights
        for input in [inputs[0], inputs[1], inputs[0]] {
            let run = try await Tools.run(Tools.fruits, ["run", "--input", input, "--output", output, "--weights", weights, "--pca-k", "4"])
            try #require(run.status == 0, "\(run.output.suffix(2000))")
        }
        let store = try LocalObjectStore(root: output)
        var ids: [String] = []
        for part in try await store.list(prefix: "features/") {
            ids += try ParquetReader(bytes: try await store.get(part.key)).strings("image_id").compactMap { $0 }
        }
        #expect(ids.count == 20 && Set(ids).count == 20, "\(ids.count) rows, \(Set(ids).count) distinct")
        let model = try JSONSerialization.jsonObject(with: Data(try await store.get("pca/model.json"))) as? [String: Any]
        #expect(model?["n_samples"] as? Int == 20)
    }
}

/// A `fruits broker` child; its first stdout line is the bootstrap list.
final class Broker {
    let process = Process()
    let bootstrap: String

    init(topics: [String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: Tools.fruits)
        process.arguments = ["broker", "--partitions", "6"] + (topics.map { ["--topics"] + $0 } ?? [])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = try Tools.firstLine(of: output, from: "fruits broker")
        bootstrap = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { Tools.reap([process]) }
}
