import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Parquet
import TestSupport
import Testing

@testable import Reducer
@testable import Results

/// The reducer in process, on the embedded cluster and a directory: what it
/// keeps, what it turns into dead letters, and what a replay leaves behind.
@Suite("Reducer: hostile records and replayed flushes", .tags(.integration), .serialized)
struct ReducerServiceTests {
    struct Fixture {
        let cluster: EmbeddedKafkaCluster
        let producer: KafkaProducer
        let store: LocalObjectStore
        let topics = PipelineTopics()

        /// A new cluster; results in a new directory, or in `store`.
        init(store: LocalObjectStore? = nil) throws {
            cluster = try EmbeddedKafkaCluster()
            // One partition each: the reducer reads a topic's records in the order sent.
            for topic in PipelineTopics().all { try cluster.createTopic(topic, partitions: 1) }
            producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
            self.store = try store ?? LocalObjectStore(
                root: FileManager.default.temporaryDirectory.appendingPathComponent("reducer-\(UUID().uuidString)").path)
        }

        func send(_ topic: String, _ value: [UInt8]) async throws {
            _ = try await producer.send(topic: topic, key: nil, value: value)
        }

        func reduce(
            expecting images: Int?, reset: ReducerService.OffsetReset? = nil, flushRecords: Int = 2_000,
            configure: @Sendable (inout ReducerService.Configuration) -> Void = { _ in }
        ) async throws -> ReducerService.Totals {
            var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
            configuration.expectedImages = images
            configuration.resetOffsets = reset
            configuration.flushRecords = flushRecords
            configuration.pca = .components(1)
            configuration.dimension = 4
            configure(&configuration)
            let reducer = try await ReducerService(configuration: configuration, store: store, logger: Logger(label: "test"))
            try await reducer.run()
            return await reducer.totals
        }

        /// `column` of every Parquet file under `folder`.
        func rows(_ folder: String, column: String) async throws -> [String] {
            try await objects(under: folder).flatMap { try ParquetReader(bytes: $0.bytes).strings(column).map { $0 ?? "" } }
        }

        /// Every object under `prefix`, in key order.
        func objects(under prefix: String) async throws -> [(key: String, bytes: [UInt8])] {
            var objects: [(key: String, bytes: [UInt8])] = []
            for object in try await store.list(prefix: prefix) { objects.append((object.key, try await store.get(object.key))) }
            return objects
        }

        func checkpoint() async throws -> ReducerCheckpoint? {
            try await store.getIfPresent(ResultsLayout.checkpoint).map { try ReducerCheckpoint(bytes: $0) }
        }
    }

    static func id(_ n: Int) -> String { String(format: "%032x", n) }

    static func features(_ n: Int, _ values: [Float]) throws -> [UInt8] {
        var event = Fruits_V1_FeatureEvent()
        event.imageID = id(n)
        event.uri = "file:///photos/Apple/\(n).jpg"
        event.label = "Apple"
        event.features = values
        event.decode = n.isMultiple(of: 2) ? "exact,stored" : "reduced448,exif"  // as each lane records it
        return try event.serializedBytes()
    }

    static func deadLetter(_ n: Int) throws -> [UInt8] {
        var letter = Fruits_V1_DeadLetter()
        letter.imageID = id(n)
        letter.uri = "file:///photos/Apple/\(n).jpg"
        letter.reason = "unreadable_object"
        letter.stage = "extract"
        return try letter.serializedBytes()
    }

    /// NaN and infinity, finite features outside MobileNetV2's [0, 6] (1e30,
    /// a negative), a wrong dimension, bytes that are no event and an id with
    /// uppercase digits become dead letters and never reach the PCA: the Gram
    /// matrix holds exactly the three good images. A success of an image that
    /// also has a dead letter wins, whichever is read first. Image 6 comes
    /// last on its topic: once it is accounted for, every features record
    /// before it has been read.
    @Test func hostileFeatureEventsBecomeDeadLettersAndASuccessBeatsADeadLetter() async throws {
        let fixture = try Fixture()
        let features = fixture.topics.features
        try await fixture.send(fixture.topics.deadLetters, Self.deadLetter(5))
        try await fixture.send(features, Self.features(1, [1, .nan, 3, 4]))
        try await fixture.send(features, Self.features(2, [1, .infinity, 3, 4]))
        try await fixture.send(features, Self.features(3, [1, 2, 3]))
        try await fixture.send(features, Self.features(7, [1e30, 1e30, 1e30, 1e30]))
        try await fixture.send(features, Self.features(8, [1, 2, -0.5, 4]))
        try await fixture.send(features, [0xFF, 0x00, 0x13, 0x37])
        var uppercase = Fruits_V1_FeatureEvent()
        uppercase.imageID = String(repeating: "A", count: 32)
        uppercase.features = [1, 2, 3, 4]
        try await fixture.send(features, try uppercase.serializedBytes())
        try await fixture.send(features, Self.features(4, [1, 2, 3, 4]))
        try await fixture.send(features, Self.features(5, [2, 3, 4, 5]))
        try await fixture.send(features, Self.features(6, [3, 1, 4, 1]))

        let totals = try await fixture.reduce(expecting: 8)
        #expect(totals.features == 3)
        #expect(try await fixture.rows("features/", column: "image_id").sorted() == [Self.id(4), Self.id(5), Self.id(6)])
        // Each row keeps the decode its event recorded (README "Output layout").
        let decodes = zip(try await fixture.rows("features/", column: "image_id"), try await fixture.rows("features/", column: "decode"))
        #expect(Dictionary(uniqueKeysWithValues: decodes) == [Self.id(4): "exact,stored", Self.id(5): "reduced448,exif", Self.id(6): "exact,stored"])
        let reasons = try await fixture.rows("deadletters/", column: "reason")
        #expect(reasons.sorted() == ["features_out_of_range", "features_out_of_range", "malformed_event", "malformed_event",
                                     "malformed_event", "non_finite_features", "non_finite_features"])
        await #expect(!(try fixture.rows("deadletters/", column: "image_id")).contains(Self.id(5)))
        let checkpoint = try await ReducerCheckpoint(bytes: try fixture.store.get(ResultsLayout.checkpoint))
        var good = PCAAccumulator(dimension: 4)
        good.add([[1, 2, 3, 4], [2, 3, 4, 5], [3, 1, 4, 1]])
        #expect(checkpoint.accumulator == good)
    }

    /// A crashed flush 1 wrote its features part and id manifest but no
    /// checkpoint; the replay's flush 1 holds only dead letters. The crashed
    /// attempt's files must go, or its images would be in the results without
    /// being in the PCA.
    @Test func aReplayedFlushLeavesNoStalePart() async throws {
        let fixture = try Fixture()
        let crashed = FlushName(sequence: 1, epoch: 0xDEAD)
        try await fixture.store.put(ResultsLayout.featuresPart(crashed), [0x50, 0x41, 0x52, 0x31], contentType: "application/octet-stream")
        try await fixture.store.put(try #require(WrittenImages.manifest([ImageKey(imageID: Self.id(1))!], as: .features, flush: crashed)))
        for n in 1...3 { try await fixture.send(fixture.topics.deadLetters, Self.deadLetter(n)) }
        _ = try await fixture.reduce(expecting: 3)
        #expect(try await fixture.store.list(prefix: "features/").isEmpty)
        #expect(try await fixture.store.list(prefix: "_ids/features/").isEmpty)
        #expect(try await fixture.rows("deadletters/", column: "image_id").count == 3)
    }

    /// Records already in the topic arrive in reads of many at once; a read
    /// that fills the batch midway is flushed there, so no flush holds more
    /// than `flushRecords` and each commits the offsets of what it holds.
    @Test(.timeLimit(.minutes(2)))
    func aFlushHoldsAtMostFlushRecordsWhateverTheReadBrings() async throws {
        let fixture = try Fixture()
        for n in 1...25 { try await fixture.send(fixture.topics.features, Self.features(n, [Float(n) / 100, 1, Float(n % 3), 2])) }
        let totals = try await fixture.reduce(expecting: 25, flushRecords: 10)
        #expect(totals.features == 25)
        let parts = try await fixture.objects(under: "features/").map { try ParquetReader(bytes: $0.bytes).rowCount }
        #expect(parts.sorted() == [5, 10, 10])
        #expect(try await fixture.checkpoint()?.offsets.values.max() == 25)
    }

    /// Two reducers on one results (a rolling update, a second start by
    /// mistake): the newer one claims them, the older one's next commit is
    /// refused and it stops with `Fenced`, and every image is in the results
    /// exactly once, whatever the older one had written.
    @Test(.timeLimit(.minutes(2)))
    func aSecondReducerFencesTheFirstAndNothingIsLostOrDoubled() async throws {
        let fixture = try Fixture()
        let features = fixture.topics.features
        for n in 1...100 { try await fixture.send(features, Self.features(n, [Float(n) / 100, 1, Float(n % 7), 2])) }
        let first = Task { try await fixture.reduce(expecting: nil, flushRecords: 10) }
        // The second starts from the checkpoint's offsets; once the first has
        // committed all 100, the second reads exactly the 200 that follow.
        try await Tools.waitUntil("the first reducer committed 100 images") { try await fixture.checkpoint()?.accumulator.count == 100 }
        let second = Task { try await fixture.reduce(expecting: 200, flushRecords: 10) }
        try await Tools.waitUntil("the second reducer claimed the results") {
            Set(try await fixture.checkpoint()?.epochs.entries.map(\.epoch) ?? []).count == 2
        }
        for n in 101...300 { try await fixture.send(features, Self.features(n, [Float(n) / 100, 1, Float(n % 7), 2])) }

        await #expect(throws: ReducerService.Fenced.self) { try await first.value }
        let totals = try await second.value
        #expect(totals.features == 300 && totals.model?.nSamples == 300)
        let ids = try await fixture.rows("features/", column: "image_id")
        #expect(ids.count == 300 && Set(ids) == Set((1...300).map(Self.id)))
        #expect(try await fixture.checkpoint()?.accumulator.count == 300)
    }

    /// The model lives: published while the reducer runs, each version
    /// immutable under pca/models/, versions increasing across a restart that
    /// resumes from the checkpoint, the final one over every image.
    @Test(.timeLimit(.minutes(2)))
    func aModelIsPublishedWhileTheReducerRunsAndVersionsKeepIncreasing() async throws {
        let fixture = try Fixture()
        let live: @Sendable (inout ReducerService.Configuration) -> Void = {
            $0.modelEvery = .milliseconds(1)
            $0.modelMinImages = 20
            $0.modelFirstAfter = .zero
        }
        for n in 1...60 { try await fixture.send(fixture.topics.features, Self.features(n, [Float(n) / 100, 1, Float(n % 5), Float(n % 3)])) }
        let first = Task { try await fixture.reduce(expecting: nil, flushRecords: 10, configure: live) }
        try await Tools.waitUntil("a model over all 60 images is published while the reducer runs") {
            try await Self.model(fixture.store.getIfPresent(ResultsLayout.model))?.nSamples == 60
        }
        first.cancel()
        _ = try await first.value

        for n in 61...100 { try await fixture.send(fixture.topics.features, Self.features(n, [Float(n) / 100, 2, Float(n % 7), 0])) }
        let totals = try await fixture.reduce(expecting: 40, flushRecords: 10, configure: live)
        let models = try await fixture.objects(under: "pca/models/").filter { $0.key.hasSuffix("/model.json") }.map { try Self.model($0.bytes)! }
        let versions = models.compactMap(\.version)
        #expect(versions.count == models.count && versions.count >= 3)
        #expect(versions == Array(1...versions.count), "\(versions)")
        #expect(zip(models, models.dropFirst()).allSatisfy { $0.nSamples <= $1.nSamples })
        let current = try #require(try await Self.model(fixture.store.getIfPresent(ResultsLayout.model)))
        #expect(current.version == versions.last && current.nSamples == 100 && totals.model?.version == current.version)
        #expect(try await fixture.checkpoint()?.modelVersion == versions.last)

        // Restarted with nothing new, it publishes no new version.
        let idle = Task { try await fixture.reduce(expecting: nil, flushRecords: 10, configure: live) }
        try await Task.sleep(for: .seconds(2))
        idle.cancel()
        _ = try await idle.value
        #expect(try await fixture.checkpoint()?.modelVersion == versions.last)
    }

    static func model(_ bytes: [UInt8]?) throws -> PCAModel? {
        try bytes.map { try JSONDecoder().decode(PCAModel.self, from: Data($0)) }
    }

    /// Someone else's file under features/ is skipped with a warning; the
    /// model is still written, after every projected part.
    @Test func finalizeSkipsAForeignFileUnderFeatures() async throws {
        let fixture = try Fixture()
        try await fixture.store.put("features/someone-elses.parquet", Array("PAR1".utf8) + [1, 2, 3, 4, 5, 6, 7, 8] + Array("PAR1".utf8),
                              contentType: "application/octet-stream")
        for n in 1...3 { try await fixture.send(fixture.topics.features, Self.features(n, [Float(n), 1, 2, Float(n * n) / 2])) }
        let totals = try await fixture.reduce(expecting: 3)
        #expect(totals.model?.nSamples == 3)
        #expect(try await fixture.store.getIfPresent(ResultsLayout.model) != nil)
        #expect(try await fixture.store.list(prefix: "pca/projected/").count == 1)
    }

    /// Results whose checkpoint came from another cluster: its offsets mean
    /// nothing there (reading on would skip records), so the reducer refuses
    /// and names --reset-offsets; told to, it reads the new cluster from the start.
    @Test(.timeLimit(.minutes(1)))  // reading on with the old offsets would wait forever for skipped records
    func checkpointOffsetsOfAnotherClusterAreRefused() async throws {
        let first = try Fixture()
        for n in 1...2 { try await first.send(first.topics.features, Self.features(n, [Float(n), 1, 2, 3])) }
        _ = try await first.reduce(expecting: 2)
        let second = try Fixture(store: first.store)
        for n in 3...5 { try await second.send(second.topics.features, Self.features(n, [Float(n), 2, 1, 0])) }
        let refused = await #expect(throws: ReducerService.OffsetsDoNotMatch.self) { try await second.reduce(expecting: 3) }
        #expect(refused.map { "\($0)".contains("--reset-offsets") } == true)
        let totals = try await second.reduce(expecting: 3, reset: .earliest)
        #expect(totals.features == 5)
        withExtendedLifetime(first) {}
    }

    @Test func imageIdsAreExactlyThirtyTwoLowercaseHexDigits() {
        #expect(ImageKey(imageID: Self.id(255)) != nil)
        #expect(ImageKey(imageID: Self.id(255).uppercased().replacingOccurrences(of: "0", with: "A")) == nil)
        #expect(ImageKey(imageID: "+" + String(Self.id(1).dropFirst())) == nil)
        #expect(ImageKey(imageID: String(repeating: "F", count: 32)) == nil)
        #expect(ImageKey(imageID: String(repeating: "g", count: 32)) == nil)
        #expect(ImageKey(imageID: String(Self.id(1).dropFirst())) == nil)
    }
}
