import Common
import Foundation
import Testing

@testable import Reducer

@Suite("Written image ids: markers that count only once committed")
struct ImageMarkersTests {
    static func store() throws -> LocalObjectStore {
        try LocalObjectStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("markers-\(UUID().uuidString)").path)
    }

    static func ids(_ count: Int, seed: Int) -> [ImageKey] {
        (0..<count).map { ImageKey(imageID: String(format: "%016llx%016llx", UInt64(seed), UInt64($0 * 7919 + 1)))! }
    }

    @Test func committedMarkersCountAndOthersDoNot() throws {
        let markers = ImageMarkers(store: try Self.store())
        let first = Self.ids(40, seed: 1), second = Self.ids(40, seed: 2)
        var checkpoint = ReducerCheckpoint(dimension: 4)
        // Epoch 10 writes flush 1 and commits it; it writes flush 2 and dies.
        try markers.mark(first, kind: .features, sequence: 1, epoch: 10)
        checkpoint.sequence = 1
        checkpoint.epochs.commit(sequence: 1, by: 10)
        try markers.mark(second, kind: .features, sequence: 2, epoch: 10)
        #expect(try markers.committed(first + second, kind: .features, checkpoint: checkpoint) == Set(first))
        #expect(try markers.committed(first, kind: .deadLetters, checkpoint: checkpoint).isEmpty)

        // Epoch 20 replays and commits flush 2 with only half of the second batch:
        // the other half's markers are epoch 10's and must still not count.
        try markers.mark(Array(second.prefix(20)), kind: .features, sequence: 2, epoch: 20)
        checkpoint.sequence = 2
        checkpoint.epochs.commit(sequence: 2, by: 20)
        #expect(try markers.committed(first + second, kind: .features, checkpoint: checkpoint) == Set(first + second.prefix(20)))
    }

    @Test func epochHistoryNamesWhoCommittedEachFlush() {
        var history = EpochHistory()
        history.commit(sequence: 1, by: 7)
        history.commit(sequence: 2, by: 7)
        history.commit(sequence: 3, by: 9)
        #expect(history.entries.count == 2)
        #expect(history.committed(sequence: 2, by: 7, upTo: 3))
        #expect(!history.committed(sequence: 3, by: 7, upTo: 3))
        #expect(history.committed(sequence: 3, by: 9, upTo: 3))
        #expect(!history.committed(sequence: 4, by: 9, upTo: 3))
        #expect(!history.committed(sequence: 0, by: 7, upTo: 3))
    }

    @Test func checkpointRoundTrips() throws {
        var checkpoint = ReducerCheckpoint(dimension: 3)
        checkpoint.accumulator.add([[1, 2, 3], [4, 5, 6.5]])
        checkpoint.sequence = 5
        checkpoint.deadLetters = 2
        checkpoint.offsets = [TopicPartition(topic: "fruits.features", partition: 1): 42]
        checkpoint.epochs.commit(sequence: 1, by: 3)
        checkpoint.epochs.commit(sequence: 4, by: 8)
        let copy = try ReducerCheckpoint(bytes: try checkpoint.serialized())
        #expect(copy.sequence == 5 && copy.deadLetters == 2 && copy.offsets == checkpoint.offsets && copy.epochs == checkpoint.epochs)
        #expect(copy.accumulator.count == 2 && copy.accumulator.sum == checkpoint.accumulator.sum)
        #expect(copy.accumulator.covariance() == checkpoint.accumulator.covariance())
    }

    @Test func aMissingObjectIsAbsentButABrokenStoreThrows() throws {
        let store = try Self.store()
        #expect(try store.getIfPresent("_ids/none") == nil)
        try store.put("_ids/some", [1, 2], contentType: "application/octet-stream")
        #expect(try store.getIfPresent("_ids/some") == [1, 2])
        #expect(throws: (any Error).self) { try store.getIfPresent("../escape") }
    }
}
