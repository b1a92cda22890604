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

/// Two reducers and one results folder, with the other's moves injected at
/// the exact point of a race (a `HookedStore`), not hoped for with sleeps.
@Suite("Reducer: fencing without holes", .serialized)
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
