import Events
import Foundation
import Kafka
import ObjectStorage
import Reducer
import Results
import TestSupport
import Testing

/// kill -9 at the worst moments, then restart: the results must still hold
/// every image exactly once, and the PCA state must equal that of a run
/// nobody interrupted.
@Suite("Crashes lose nothing and double nothing", .tags(.integration), .usesFruitsBinary, .serialized)
struct CrashTests {
    @Test func killedExtractorAndReducersRecoverExactlyOnce() async throws {
        let server = try await S3TestServer.shared()
        let (bucket, _) = try await PipelineTests.uploadImages(count: 300, to: try server.client())
        let broker = try Broker()
        let common = ["--brokers", broker.bootstrap, "--s3-endpoint", server.endpoint]
        let environment = server.environment
        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + common + ["s3://\(bucket)/Test/"], environment: environment)
        try #require(ingest.status == 0, "\(ingest.output)")

        var ports: [Int] = []
        while ports.count < 5 { let port = Tools.freePort(); if !ports.contains(port) { ports.append(port) } }
        func extractor(_ index: Int) throws -> Process {
            try PipelineTests.service(["extract"] + common + ["--metrics-port", "\(ports[index])"],
                                      environment: environment)
        }
        var extractors = try (0..<3).map(extractor)
        defer { for process in extractors where process.isRunning { process.terminate() } }
        let reduce = ["reduce"] + common + [
            "--output", "s3://\(bucket)/Results/", "--flush-records", "30", "--flush-seconds", "2", "--pca-k", "16",
        ]

        // (c) The first reducer dies inside its second flush: the Parquet part
        // and the id manifest are written, the checkpoint is not. Its manifest
        // must not make the replayed images look written, and its part must go.
        let first = try PipelineTests.service(reduce + ["--metrics-port", "\(ports[3])", "--crash-at", "after-id-manifests:2"],
                                              environment: environment)
        try await Tools.waitUntil("the first reducer crashed", { !first.isRunning })
        #expect(first.terminationReason == .uncaughtSignal && first.terminationStatus == SIGKILL)
        let store = S3ObjectStore(client: try server.client(), bucket: bucket, prefix: "Results/")
        #expect(try await store.list(prefix: "features/").map(\.key).contains { $0.hasPrefix("features/part-000002-") })

        // (a) An extractor dies mid-stream and comes back.
        try await Tools.waitUntil("extractor 0 has processed images") { await (Tools.metric("fruits_images_processed_total", port: ports[0]) ?? 0) >= 8 }
        Tools.killHard(extractors[0])
        extractors[0] = try extractor(0)

        // (b) The second reducer is killed after some flushes, between or during them.
        let second = try PipelineTests.service(reduce + ["--metrics-port", "\(ports[4])"], environment: environment)
        try await Tools.waitUntil("the second reducer reduced images") { await (Tools.metric("fruits_reduced_images_total", port: ports[4]) ?? 0) >= 60 }
        Tools.killHard(second)

        // The third finishes the job. It resumes from its predecessor's
        // checkpoint, so it cannot count the images to expect; it starts once
        // the extractors have committed every image event (their group's lag
        // is 0: every feature event is in the topic), so its idle timer cannot
        // fire while the group is still rebalancing after the kill.
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: broker.bootstrap))
        try await Tools.waitUntil("the extractors have committed every image event", timeout: .seconds(180)) {
            (try? await admin.lag(group: PipelineGroups.extractors, topic: PipelineTopics().images).values.reduce(0, +)) == 0
        }
        let last = try await Tools.run(Tools.fruits, reduce + ["--exit-when-idle", "15"], environment: environment)
        try #require(last.status == 0, "\(last.output.suffix(2000))")
        let check = try await PipelineTests.checkResults(bucket: bucket, server: server)
        #expect(check.status == 0, "\(check.output)")
        withExtendedLifetime(broker) {}

        // The same images through a run nobody interrupts, on a fresh broker. An
        // image's features do not depend on which extractor computed them or when
        // (batch 1, one thread), so the statistics may differ only by the order
        // of Float64 additions.
        let clean = try await Self.uninterruptedRun(bucket: bucket, server: server, output: "Uninterrupted/")
        let recovered = try ReducerCheckpoint(bytes: await store.get(ResultsLayout.checkpoint)).accumulator
        #expect(recovered.count == 300 && clean.count == 300)
        let meanDifference = Self.relativeDifference(recovered.mean, clean.mean)
        let covarianceDifference = Self.relativeDifference(recovered.covariance(), clean.covariance())
        #expect(meanDifference <= 1e-9, "mean differs by \(meanDifference) relative")
        #expect(covarianceDifference <= 1e-9, "covariance differs by \(covarianceDifference) relative")
        print("uninterrupted-run comparison: mean \(meanDifference), covariance \(covarianceDifference) relative")
    }

    /// Ingest, two extractors and one reducer over `s3://bucket/Test/`, writing to
    /// `output`; returns the PCA statistics of its final checkpoint.
    static func uninterruptedRun(bucket: String, server: S3TestServer, output: String) async throws -> PCAAccumulator {
        let broker = try Broker()
        let common = ["--brokers", broker.bootstrap, "--s3-endpoint", server.endpoint]
        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + common + ["s3://\(bucket)/Test/"], environment: server.environment)
        try #require(ingest.status == 0, "\(ingest.output)")
        let extractors = try (0..<2).map { _ in
            try PipelineTests.service(["extract"] + common, environment: server.environment)
        }
        defer { Tools.reap(extractors) }
        let reduce = try await Tools.run(Tools.fruits, ["reduce"] + common + [
            "--output", "s3://\(bucket)/\(output)", "--expect-images", "300", "--exit-when-idle", "60", "--pca-k", "16",
        ], environment: server.environment)
        try #require(reduce.status == 0, "\(reduce.output.suffix(2000))")
        let store = S3ObjectStore(client: try server.client(), bucket: bucket, prefix: output)
        return try ReducerCheckpoint(bytes: await store.get(ResultsLayout.checkpoint)).accumulator
    }

    /// ‖a − b‖ / ‖b‖ (Euclidean, over all entries).
    static func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
        let difference = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let norm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
        return difference / norm
    }
}
