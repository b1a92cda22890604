import Events
import Foundation
import Kafka
import ObjectStorage
import Testing

@testable import Reducer
@testable import Results

@Suite("Written image ids and flush files: they count only once committed")
struct WrittenImagesTests {
    static func store() throws -> LocalObjectStore {
        try LocalObjectStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("written-\(UUID().uuidString)").path)
    }

    static func ids(_ count: Int, seed: Int) -> [ImageKey] {
        (0..<count).map { ImageKey(imageID: String(format: "%016llx%016llx", UInt64(seed), UInt64($0 * 7919 + 1)))! }
    }

    @Test func committedManifestsCountAndOthersDoNot() async throws {
        let store = try Self.store()
        let first = Self.ids(40, seed: 1), second = Self.ids(40, seed: 2)
        var checkpoint = ReducerCheckpoint(dimension: 4)
        // Epoch 10 writes flush 1 and commits it; it writes flush 2 and dies.
        try await store.put(try #require(WrittenImages.manifest(first, as: .features, flush: FlushName(sequence: 1, epoch: 10))))
        checkpoint.sequence = 1
        checkpoint.epochs.commit(sequence: 1, by: 10)
        try await store.put(try #require(WrittenImages.manifest(second, as: .features, flush: FlushName(sequence: 2, epoch: 10))))
        var written = try await WrittenImages.load(from: store, committedBy: checkpoint)
        #expect(written.count == first.count && first.allSatisfy { written.heldAtStart($0) && written.contains($0, as: .features) })
        #expect(!second.contains { written.heldAtStart($0) })

        // Epoch 20 replays and commits flush 2 with only half of the second
        // batch: epoch 10's manifest of flush 2 must still not count.
        try await store.put(try #require(WrittenImages.manifest(Array(second.prefix(20)), as: .deadLetters, flush: FlushName(sequence: 2, epoch: 20))))
        checkpoint.sequence = 2
        checkpoint.epochs.commit(sequence: 2, by: 20)
        written = try await WrittenImages.load(from: store, committedBy: checkpoint, parallelism: 3)
        #expect(written.count == first.count && second.prefix(20).allSatisfy { written.contains($0, as: .deadLetters) })
        #expect(!second.dropFirst(20).contains { written.heldAtStart($0) } && !first.contains { written.writtenSinceStart($0) })
        #expect(try await ResultsLayout.uncommittedFiles(in: store, checkpoint: checkpoint)
                    == [WrittenImages.manifestKey(.features, FlushName(sequence: 2, epoch: 10))])
    }

    @Test func manifestsRoundTripAndRejectOtherBytes() throws {
        let ids = Self.ids(1000, seed: 3)
        #expect(try WrittenImages.decode(WrittenImages.encode(ids), key: "k") == ids.sorted())
        #expect(throws: WrittenImages.Corrupt.self) { try WrittenImages.decode(Array("FRIDS001".utf8) + [1, 2, 3], key: "k") }
        #expect(throws: WrittenImages.Corrupt.self) { try WrittenImages.decode(Array("PAR1".utf8), key: "k") }
    }

    /// File names carry the flush and the epoch; anything else is not a
    /// flush file and is left alone.
    @Test func flushNamesRoundTripAndForeignNamesDoNotParse() {
        let name = FlushName(sequence: 42, epoch: 0xC0FFEE)
        #expect(ResultsLayout.featuresPart(name) == "features/part-000042-0000000000c0ffee.parquet")
        #expect(FlushName(key: ResultsLayout.featuresPart(name)) == name)
        #expect(FlushName(key: WrittenImages.manifestKey(.deadLetters, name)) == name)
        #expect(FlushName(key: "features/part-1234567-ffffffffffffffff.parquet") == FlushName(sequence: 1_234_567, epoch: .max))
        for foreign in ["features/part-000042.parquet", "features/someone.parquet", "features/part-000042-C0FFEE00C0FFEE00.parquet",
                        "features/part-00042-0000000000c0ffee.parquet", "features/part--00042-000000000c0ffee.parquet"] {
            #expect(FlushName(key: foreign) == nil, "\(foreign)")
        }
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

    @Test func aCheckpointOfTheEarlierLayoutIsRefusedWithAMessage() {
        let earlier = Array("FRCKPT02".utf8) + [UInt8](repeating: 0, count: 16)
        #expect { try ReducerCheckpoint(bytes: earlier) } throws: { "\($0)".contains("earlier fruits") }
    }
}
