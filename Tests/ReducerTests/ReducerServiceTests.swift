import Common
import Foundation
import Logging
import Testing

@testable import Reducer

/// The reducer in process, on the embedded cluster and a directory: what it
/// keeps, what it turns into dead letters, and what a replay leaves behind.
@Suite("Reducer: hostile records and replayed flushes", .serialized)
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

        func reduce(expecting images: Int, reset: ReducerService.OffsetReset? = nil) async throws -> ReducerService.Totals {
            var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
            configuration.expectedImages = images
            configuration.resetOffsets = reset
            configuration.pca = .components(1)
            configuration.dimension = 4
            let reducer = try ReducerService(configuration: configuration, store: store, logger: Logger(label: "test"))
            try await reducer.run()
            return reducer.totals
        }

        func rows(_ key: String, column: String) throws -> [String] {
            guard let bytes = try store.getIfPresent(key) else { return [] }
            return try ParquetReader(bytes: bytes).strings(column).map { $0 ?? "" }
        }
    }

    static func id(_ n: Int) -> String { String(format: "%032x", n) }

    static func features(_ n: Int, _ values: [Float]) throws -> [UInt8] {
        var event = Fruits_V1_FeatureEvent()
        event.imageID = id(n)
        event.uri = "file:///photos/Apple/\(n).jpg"
        event.label = "Apple"
        event.features = values
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

    /// NaN and infinity, a wrong dimension, bytes that are no event and an
    /// id with uppercase digits become dead letters and never reach the PCA;
    /// a success of an image that also has a dead letter wins, whichever is
    /// read first. Image 6 comes last on its topic: once it is accounted for,
    /// every features record before it has been read.
    @Test func hostileFeatureEventsBecomeDeadLettersAndASuccessBeatsADeadLetter() async throws {
        let fixture = try Fixture()
        let features = fixture.topics.features
        try await fixture.send(fixture.topics.deadLetters, Self.deadLetter(5))
        try await fixture.send(features, Self.features(1, [1, .nan, 3, 4]))
        try await fixture.send(features, Self.features(2, [1, .infinity, 3, 4]))
        try await fixture.send(features, Self.features(3, [1, 2, 3]))
        try await fixture.send(features, [0xFF, 0x00, 0x13, 0x37])
        var uppercase = Fruits_V1_FeatureEvent()
        uppercase.imageID = String(repeating: "A", count: 32)
        uppercase.features = [1, 2, 3, 4]
        try await fixture.send(features, try uppercase.serializedBytes())
        try await fixture.send(features, Self.features(4, [1, 2, 3, 4]))
        try await fixture.send(features, Self.features(5, [2, 3, 4, 5]))
        try await fixture.send(features, Self.features(6, [3, 1, 4, 1]))

        let totals = try await fixture.reduce(expecting: 6)
        #expect(totals.features == 3)
        #expect(try fixture.rows(ResultsLayout.featuresPart(1), column: "image_id").sorted() == [Self.id(4), Self.id(5), Self.id(6)])
        let reasons = try fixture.rows(ResultsLayout.deadLettersPart(1), column: "reason")
        #expect(reasons.sorted() == ["malformed_event", "malformed_event", "malformed_event", "non_finite_features", "non_finite_features"])
        #expect(!(try fixture.rows(ResultsLayout.deadLettersPart(1), column: "image_id")).contains(Self.id(5)))
        let checkpoint = try ReducerCheckpoint(bytes: try fixture.store.get(ResultsLayout.checkpoint))
        let finite = checkpoint.accumulator.mean.allSatisfy { $0.isFinite }
        #expect(finite)
    }

    /// A crashed flush 1 wrote its features part but no checkpoint; the replay's
    /// flush 1 holds only dead letters. The crashed attempt's part must go, or
    /// its images would be in the results without being in the PCA.
    @Test func aReplayedFlushLeavesNoStalePart() async throws {
        let fixture = try Fixture()
        try fixture.store.put(ResultsLayout.featuresPart(1), [0x50, 0x41, 0x52, 0x31], contentType: "application/octet-stream")
        for n in 1...3 { try await fixture.send(fixture.topics.deadLetters, Self.deadLetter(n)) }
        _ = try await fixture.reduce(expecting: 3)
        #expect(try fixture.store.getIfPresent(ResultsLayout.featuresPart(1)) == nil)
        #expect(try fixture.rows(ResultsLayout.deadLettersPart(1), column: "image_id").count == 3)
    }

    /// Someone else's file under features/ is skipped with a warning; the
    /// model is still written, after every projected part.
    @Test func finalizeSkipsAForeignFileUnderFeatures() async throws {
        let fixture = try Fixture()
        try fixture.store.put("features/someone-elses.parquet", Array("PAR1".utf8) + [1, 2, 3, 4, 5, 6, 7, 8] + Array("PAR1".utf8),
                              contentType: "application/octet-stream")
        for n in 1...3 { try await fixture.send(fixture.topics.features, Self.features(n, [Float(n), 1, 2, Float(n * n)])) }
        let totals = try await fixture.reduce(expecting: 3)
        #expect(totals.model?.nSamples == 3)
        #expect(try fixture.store.getIfPresent(ResultsLayout.model) != nil)
        #expect(try fixture.store.getIfPresent(ResultsLayout.projectedPart(forFeaturesPart: ResultsLayout.featuresPart(1))) != nil)
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
