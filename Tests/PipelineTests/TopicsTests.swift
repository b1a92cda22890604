import Events
import Foundation
import ObjectStorage
import TestSupport
import Testing

@Suite("fruits topics: created on purpose, lag as an autoscaler sees it", .tags(.integration), .usesFruitsBinary, .serialized)
struct TopicsTests {
    @Test func createLeavesExistingTopicsAloneAndCanRunAgain() async throws {
        let broker = try Broker()
        for _ in 0..<2 {
            let create = try await Tools.run(Tools.fruits, ["topics", "create", "--brokers", broker.bootstrap], timeout: .seconds(60))
            #expect(create.status == 0, "\(create.output)")
            for topic in PipelineTopics().all {
                #expect(create.output.contains("\(topic)  exists (6 partitions), left as it is"), "\(create.output)")
            }
        }
    }

    /// The embedded broker cannot create topics (it names no controller): the
    /// command says so within its bound instead of hanging.
    @Test func createFailsClearlyWhereTopicsCannotBeCreated() async throws {
        let broker = try Broker(topics: ["unrelated"])
        let started = ContinuousClock.now
        let create = try await Tools.run(Tools.fruits, ["topics", "create", "--brokers", broker.bootstrap, "--connect-timeout", "3"],
                                   timeout: .seconds(60))
        #expect(create.status != 0)
        #expect(create.output.contains("cannot create [\"fruits.images\", \"fruits.images.live\", \"fruits.features\", \"fruits.deadletter\", \"fruits.results\"]"), "\(create.output)")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func describeShowsTheExtractorGroupsLag() async throws {
        let broker = try Broker()
        let images = Tools.temporaryPath("topics-images-\(UUID().uuidString.prefix(8))")
        let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                      "--out", images, "--n", "12"])
        try #require(generated.status == 0, "\(generated.output)")
        let ingest = try await Tools.run(Tools.fruits, ["ingest", "--brokers", broker.bootstrap, images], timeout: .seconds(60))
        try #require(ingest.status == 0, "\(ingest.output)")
        let results = Tools.temporaryPath("topics-results-\(UUID().uuidString.prefix(8))")
        let describe = try await Tools.run(Tools.fruits, ["topics", "describe", "--brokers", broker.bootstrap, "--results", results],
                                           timeout: .seconds(60))
        #expect(describe.status == 0, "\(describe.output)")
        // No checkpoint yet, and nothing deleted: the reducer would start at 0 and lose nothing.
        #expect(describe.output.contains("retention on fruits.features  no records lost (log start <= the reducer's checkpoint on 6 partitions)"),
                "\(describe.output)")
        #expect(describe.output.contains("fruits.images  6 partitions"), "\(describe.output)")
        #expect(describe.output.contains("group fruits-extractors on fruits.images  lag 12 "), "\(describe.output)")
    }

    /// A reducer and an extractor started on a cluster without the pipeline's
    /// topics wait (no crash loop) and then do their work.
    @Test func servicesStartedBeforeTheirTopicsWaitAndThenWork() async throws {
        let broker = try Broker(topics: ["unrelated"])
        let brokers = ["--brokers", broker.bootstrap]
        let output = Tools.temporaryPath("topics-late-\(UUID().uuidString.prefix(8))")
        let images = output + "-images"
        let generated = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/synthetic_fruits.py").path,
                                                      "--out", images, "--n", "6"])
        try #require(generated.status == 0, "\(generated.output)")
        let reducer = try PipelineTests.service(["reduce"] + brokers + ["--output", output, "--expect-images", "6"], environment: [:])
        defer { if reducer.isRunning { reducer.terminate() } }
        let extractor = try PipelineTests.service(["extract"] + brokers, environment: [:])
        defer { Tools.reap([extractor]) }
        let ingest = try await Tools.run(Tools.fruits, ["ingest"] + brokers + [images], timeout: .seconds(60))
        try #require(ingest.status == 0, "\(ingest.output)")
        try await Tools.waitUntil("the reducer has the 6 photos", timeout: .seconds(120)) { !reducer.isRunning }
        #expect(reducer.terminationStatus == 0)
        #expect(extractor.isRunning)
        let store = try LocalObjectStore(root: output)
        #expect(try await store.list(prefix: "features/").count == 1)
    }
}
