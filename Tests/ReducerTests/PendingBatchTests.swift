import Events
import Foundation
import Testing

@testable import Reducer
@testable import Results

@Suite("Pending batch and expected images: one record per image, counted once")
struct PendingBatchTests {
    static let ids = (1...4).map { String(format: "%032x", $0) }

    static func feature(_ id: String) -> Fruits_V1_FeatureEvent {
        var event = Fruits_V1_FeatureEvent()
        event.imageID = id
        return event
    }

    static func letter(_ id: String) -> Fruits_V1_DeadLetter {
        var letter = Fruits_V1_DeadLetter()
        letter.imageID = id
        return letter
    }

    @Test func aSuccessReplacesADeadLetterAndRepeatsAreDuplicates() {
        var batch = PendingBatch()
        let key = ImageKey(imageID: Self.ids[0])!
        #expect(batch.add(Self.letter(Self.ids[0])) == .held(newKey: key))
        #expect(batch.add(Self.letter(Self.ids[0])) == .duplicate)
        #expect(batch.add(Self.feature(Self.ids[0]), key: key) == .held(newKey: nil))
        #expect(batch.features.count == 1 && batch.deadLetters.isEmpty)
        #expect(batch.add(Self.feature(Self.ids[0]), key: key) == .duplicate)
        #expect(batch.add(Self.letter(Self.ids[0])) == .duplicate, "a dead letter after a success is a repeat")
        // Without an id there is nothing to deduplicate on: every one is kept.
        #expect(batch.add(Self.letter("")) == .held(newKey: nil))
        #expect(batch.add(Self.letter("")) == .held(newKey: nil))
        #expect(batch.count == 3 && batch.keys == [key])
    }

    @Test func whatTheResultsHoldIsDropped() {
        var batch = PendingBatch()
        for id in Self.ids.prefix(3) { _ = batch.add(Self.feature(id), key: ImageKey(imageID: id)!) }
        _ = batch.add(Self.letter(Self.ids[3]))
        var written = WrittenImages()
        written.insert([ImageKey(imageID: Self.ids[0])!], as: .features)
        written.insert([ImageKey(imageID: Self.ids[3])!], as: .deadLetters)
        #expect(batch.dropWritten(written) == 2)
        #expect(batch.features.map(\.imageID) == Array(Self.ids[1...2]) && batch.deadLetters.isEmpty)
    }

    @Test func expectedImagesCountEachImageOnceAcrossFlushes() {
        var progress = ExpectedImages(3)
        var written = WrittenImages()
        let keys = Self.ids.prefix(3).map { ImageKey(imageID: $0)! }
        progress.held(keys[0], written: written)
        progress.held(keys[1], written: written)
        #expect(progress.read == 2 && !progress.allRead)
        progress.committed([keys[0], keys[1]], written: written)
        written.insert(keys[0...1], as: .features)
        progress.held(keys[0], written: written)  // replayed after the commit: already accounted for
        #expect(progress.read == 2)
        progress.held(keys[2], written: written)
        #expect(progress.allRead && !progress.allAccounted)
        progress.committed([keys[0], keys[2]], written: written)
        written.insert([keys[2]], as: .deadLetters)
        #expect(progress.accounted == 3 && progress.allAccounted)
    }

    /// Images the results held before this process started count once when
    /// they come again, and never twice.
    @Test func expectedImagesCountImagesHeldAtStartWhenSeenAgain() async throws {
        let store = try WrittenImagesTests.store()
        let keys = Self.ids.prefix(3).map { ImageKey(imageID: $0)! }
        try await store.put(try #require(WrittenImages.manifest(Array(keys[0...1]), as: .features, flush: FlushName(sequence: 1, epoch: 7))))
        var checkpoint = ReducerCheckpoint(dimension: 4)
        checkpoint.sequence = 1
        checkpoint.epochs.commit(sequence: 1, by: 7)
        var written = try await WrittenImages.load(from: store, committedBy: checkpoint)
        var progress = ExpectedImages(3)
        progress.held(keys[0], written: written)
        progress.held(keys[2], written: written)
        progress.committed([keys[0], keys[2]], written: written)
        written.insert([keys[2]], as: .features)
        #expect(progress.accounted == 2 && written.count == 3)
        progress.held(keys[0], written: written)
        progress.committed([keys[0]], written: written)  // a replay of a replay
        #expect(progress.accounted == 2 && !progress.allRead)
        progress.held(keys[1], written: written)
        progress.committed([keys[1]], written: written)
        #expect(progress.allAccounted)
    }
}
