import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Parquet
import TestSupport
import Synchronization
import Testing

@testable import Reducer
@testable import Results

/// Two reducers and one results folder, with the other's moves injected at
/// the exact point of a race (a `HookedStore`), not hoped for with sleeps.
@Suite("Reducer: fencing without holes", .tags(.integration), .serialized)
struct FencingTests {
    /// A finalizes: it publishes its model (its checkpoint commits the
    /// version), and while it evaluates, B claims the results, flushes a
    /// part and publishes a newer model. A then lists `features/`. It once
    /// deleted B's part (its stale state did not count it) and rewrote the
    /// published version backwards; now it leaves both, and stops fenced.
    @Test func aFencedFinalizeDeletesNothingAndPublishesNothing() async throws {
        let fixture = try ReducerServiceTests.Fixture()
        for n in 1...6 { try await fixture.send(fixture.topics.features, ReducerServiceTests.features(n, [Float(n), 1, Float(n % 3), 0])) }
        let directory = fixture.store
        let bPart = Mutex<String?>(nil)
        let takeover = Once()
        let store = HookedStore(directory, beforeList: { prefix in
            guard prefix == "features/",
                  let (bytes, version) = try await directory.getVersioned(ResultsLayout.checkpoint),
                  case let checkpoint = try ReducerCheckpoint(bytes: bytes), checkpoint.modelVersion > 0, takeover() else { return }
            // B: claims, commits a flush of its own, publishes version + 1.
            var next = checkpoint
            next.sequence += 1
            next.epochs.commit(sequence: next.sequence, by: 424_242)
            next.modelVersion += 1
            let part = ResultsLayout.featuresPart(FlushName(sequence: next.sequence, epoch: 424_242))
            try await directory.put(part, [0x50, 0x41, 0x52, 0x31], contentType: "application/octet-stream")
            _ = try await directory.put(ResultsLayout.checkpoint, try next.serialized(), contentType: "application/octet-stream",
                                        ifUnchangedSince: version)
            try await directory.put(ResultsLayout.latestVersion, Array("\(next.modelVersion)\n".utf8), contentType: "text/plain")
            bPart.withLock { $0 = part }
        })
        var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: fixture.cluster.bootstrapServers))
        configuration.expectedImages = 6
        configuration.pca = .components(1)
        configuration.dimension = 4
        let reducer = try await ReducerService(configuration: configuration, store: store, logger: Logger(label: "test"))
        await #expect(throws: ReducerService.Fenced.self) { try await reducer.run() }

        let part = try #require(bPart.withLock { $0 }, "B took over during A's finalize")
        #expect(try await directory.getIfPresent(part) != nil, "A deleted B's committed part")
        let published = try await directory.get(ResultsLayout.latestVersion)
        let checkpoint = try ReducerCheckpoint(bytes: try await directory.get(ResultsLayout.checkpoint))
        #expect(String(decoding: published, as: UTF8.self) == "\(checkpoint.modelVersion)\n", "the published version went backwards")
        #expect(try await directory.list(prefix: "pca/projected/").isEmpty, "a fenced reducer projected parts")
    }

    /// The pointer never goes back, even for an owner: a newer version in
    /// place (published by a later owner that has since stopped) stays.
    @Test func thePublishedVersionOnlyGoesForward() async throws {
        let fixture = try ReducerServiceTests.Fixture()
        try await fixture.store.put(ResultsLayout.latestVersion, Array("99\n".utf8), contentType: "text/plain")
        for n in 1...4 { try await fixture.send(fixture.topics.features, ReducerServiceTests.features(n, [Float(n), 2, 0, 1])) }
        _ = try await fixture.reduce(expecting: 4)
        #expect(String(decoding: try await fixture.store.get(ResultsLayout.latestVersion), as: UTF8.self) == "99\n")
    }
}

/// Records the broker's retention deleted before the reducer read them are
/// a loud stop, not a silent gap. The embedded broker keeps about 5 MiB per
/// partition, so 8 MiB of feature events meet this for real.
@Suite("Reducer: retention loss is loud", .tags(.integration), .serialized)
struct RetentionLossTests {
    @Test func aReducerStartedAfterRetentionRefusesUnlessTold() async throws {
        let fixture = try ReducerServiceTests.Fixture()
        let features = [Float](repeating: 0.5, count: 1280)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1...1_600 {
                group.addTask { try await fixture.send(fixture.topics.features, ReducerServiceTests.features(n, features)) }
            }
            try await group.waitForAll()
        }
        var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: fixture.cluster.bootstrapServers))
        configuration.exitWhenIdle = .seconds(2)
        configuration.finalizeWhenDone = false
        let refused = try await ReducerService(configuration: configuration, store: fixture.store, logger: Logger(label: "test"))
        let error = await #expect(throws: RetentionLoss.self) { try await refused.run() }
        let lost = error?.lost[TopicPartition(topic: fixture.topics.features, partition: 0)] ?? 0
        #expect(lost > 0 && lost < 1_600, "\(String(describing: error))")
        #expect(error.map { "\($0)".contains("fruits.features[0]: \(lost)") && "\($0)".contains("--accept-retention-loss") } == true)
        #expect(try await fixture.checkpoint()?.offsets.isEmpty ?? true, "nothing was read past the gap")
        // `fruits topics describe --results` says the same.
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: fixture.cluster.bootstrapServers))
        let topic = fixture.topics.features
        let before = RetentionStatus.line(topic: topic, resumeAt: try await RetentionStatus.checkpointOffsets(in: fixture.store),
                                          logStarts: try await admin.logStartOffsets(topic: topic))
        #expect(before.hasPrefix("retention on \(topic)  LOST \(error?.lost.values.reduce(0, +) ?? -1) records: [0] log start \(lost), checkpoint 0 (\(lost) lost)"),
                "\(before)")

        configuration.acceptRetentionLoss = true
        let told = try await ReducerService(configuration: configuration, store: fixture.store, logger: Logger(label: "test"))
        try await told.run()
        #expect(await told.totals.features == 1_600 - Int(lost))
        let after = RetentionStatus.line(topic: topic, resumeAt: try await RetentionStatus.checkpointOffsets(in: fixture.store),
                                         logStarts: try await admin.logStartOffsets(topic: topic))
        #expect(after.hasPrefix("retention on \(topic)  no records lost"), "\(after)")
    }
}
