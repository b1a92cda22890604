import Foundation
import TestSupport
import Testing

/// The extractor group as an autoscaler drives it, with the defaults a user
/// gets: members crash, come back, are added and removed while photos keep
/// arriving. Every photo must end in the results exactly once.
@Suite("Extractor group with defaults: crashes and scale changes", .tags(.integration), .usesFruitsBinary, .serialized)
struct GroupScalingTests {
    @Test func killRestartAddAndRemoveExtractorsMidRun() async throws {
        let started = ContinuousClock.now
        let images = Tools.temporaryPath("scaling-images-\(UUID().uuidString.prefix(8))")
        let waves = (0..<3).map { "\(images)/wave-\($0)" }
        for (index, wave) in waves.enumerated() {
            let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                          "--out", wave, "--n", "500", "--seed", "\(index + 1)"])
            try #require(generated.status == 0, "\(generated.output)")
        }
        let broker = try Broker()
        let brokers = ["--brokers", broker.bootstrap]
        let output = Tools.temporaryPath("scaling-results-\(UUID().uuidString.prefix(8))")
        var ports: [Int] = []
        while ports.count < 4 { let port = Tools.freePort(); if !ports.contains(port) { ports.append(port) } }
        func extractor(_ index: Int) throws -> Process {
            try PipelineTests.service(["extract"] + brokers + ["--metrics-port", "\(ports[index])"], environment: [:])
        }
        func processed(_ index: Int) async -> Double { await Tools.metric("fruits_images_processed_total", port: ports[index]) ?? 0 }
        func ingest(_ wave: String) async throws {
            let result = try await Tools.run(Tools.fruits, ["ingest"] + brokers + [wave], timeout: .seconds(60))
            try #require(result.status == 0, "\(result.output)")
        }

        var extractors = try (0..<3).map(extractor)
        defer { Tools.reap(extractors) }
        let reducer = try PipelineTests.service(["reduce"] + brokers + ["--output", output, "--expect-images", "1500", "--pca-k", "16"],
                                                environment: [:])
        defer { if reducer.isRunning { reducer.terminate() } }

        try await ingest(waves[0])
        // A pod dies (kill -9) and its replacement starts; the autoscaler adds a fourth.
        try await Tools.waitUntil("extractor 0 has processed images") { await processed(0) >= 10 }
        Tools.killHard(extractors[0])
        extractors[0] = try extractor(0)
        extractors.append(try extractor(3))
        try await ingest(waves[1])
        try await Tools.waitUntil("the fourth extractor has processed images", timeout: .seconds(120)) { await processed(3) >= 1 }
        // The backlog shrank: the autoscaler removes one (SIGTERM: it finishes its batch and leaves).
        #expect(try await Tools.stop(extractors[1], "extractor 1") == 0)
        try await ingest(waves[2])

        try await Tools.waitUntil("the reducer has every photo", timeout: .seconds(240)) { !reducer.isRunning }
        #expect(reducer.terminationStatus == 0)
        let check = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/check_results.py").path,
                                                  "--results", output, "--images", images])
        #expect(check.status == 0, "\(check.output)")
        print("group scaling scenario: \(ContinuousClock.now - started)")
        withExtendedLifetime(broker) {}
    }
}
