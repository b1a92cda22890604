import Foundation
import ObjectStorage
import Testing

@testable import Reducer

/// The commit protocol alone, on a directory: files first, the checkpoint as
/// a conditional replace, and nothing of a refused flush left behind.
@Suite("Flush commit: files, then the checkpoint that counts them")
struct FlushCommitTests {
    static func store() throws -> LocalObjectStore {
        try LocalObjectStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("flush-\(UUID().uuidString)").path)
    }

    static func flush(_ sequence: Int, epoch: UInt64) -> FlushCommit {
        let name = FlushName(sequence: sequence, epoch: epoch)
        var checkpoint = ReducerCheckpoint(dimension: 2)
        checkpoint.sequence = sequence
        checkpoint.epochs.commit(sequence: sequence, by: epoch)
        let files = [
            FlushCommit.File(key: ResultsLayout.featuresPart(name), bytes: [1, 2, 3], contentType: "application/octet-stream"),
            FlushCommit.File(key: WrittenImages.manifestKey(.features, name), bytes: [4, 5], contentType: "application/octet-stream"),
        ]
        return FlushCommit(name: name, files: files, checkpoint: checkpoint)
    }

    @Test func aCommittedFlushHasItsFilesAndTheCheckpointCountsThem() async throws {
        let store = try Self.store()
        let first = Self.flush(1, epoch: 7)
        let version = try await first.commit(to: store, replacing: nil)
        for file in first.files { #expect(try await store.get(file.key) == (try file.contents())) }
        let stored = try #require(try await store.getVersioned(ResultsLayout.checkpoint))
        #expect(stored.version == version)
        #expect(try ReducerCheckpoint(bytes: stored.bytes).commits(first.name))

        // The next flush replaces the version the writer last saw.
        let second = Self.flush(2, epoch: 7)
        let next = try await second.commit(to: store, replacing: version)
        #expect(next != version)
        #expect(try ReducerCheckpoint(bytes: try await store.get(ResultsLayout.checkpoint)).sequence == 2)
    }

    /// Another reducer replaced the checkpoint since this one read it: the
    /// commit is refused, its files are gone, the other's checkpoint stays.
    @Test func aRefusedCheckpointTakesTheFlushFilesBackOut() async throws {
        let store = try Self.store()
        let seen = try await Self.flush(1, epoch: 7).commit(to: store, replacing: nil)
        let newOwner = try await Self.flush(2, epoch: 9).commit(to: store, replacing: seen)
        let late = Self.flush(2, epoch: 7)
        await #expect(throws: ObjectStoreConflict.self) { try await late.commit(to: store, replacing: seen) }
        for file in late.files { #expect(try await store.getIfPresent(file.key) == nil, "\(file.key) is left") }
        #expect(try await store.getVersioned(ResultsLayout.checkpoint)?.version == newOwner)
        for file in Self.flush(2, epoch: 9).files { #expect(try await store.getIfPresent(file.key) != nil) }
    }
}
