import Foundation
import ObjectStorage
import Testing

@testable import Reducer
@testable import Results

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

    /// A's checkpoint lands but its answer is lost; before A's retry, B
    /// claims on top of it (so B's checkpoint counts A's flush); the retry
    /// is refused. A's flush is committed: its files are B's data now and
    /// must stay (they were once deleted here, losing those rows for good).
    @Test func aLostAnswerThenANewOwnerLeavesTheCommittedFilesInPlace() async throws {
        let directory = try Self.store()
        let seen = try await Self.flush(1, epoch: 7).commit(to: directory, replacing: nil)
        let lost = Once()
        let store = HookedStore(directory, afterConditionalPut: { key in
            guard key == ResultsLayout.checkpoint, lost() else { return }
            // B claims on top of what landed, then A's retry meets B's bytes.
            let (bytes, version) = try #require(try await directory.getVersioned(ResultsLayout.checkpoint))
            var claimed = try ReducerCheckpoint(bytes: bytes)
            claimed.epochs.commit(sequence: claimed.sequence + 1, by: 9)
            _ = try await directory.put(ResultsLayout.checkpoint, try claimed.serialized(), contentType: "application/octet-stream",
                                        ifUnchangedSince: version)
            throw ObjectStoreConflict(key: key, expected: seen)
        })
        let flush = Self.flush(2, epoch: 7)
        await #expect(throws: ObjectStoreConflict.self) { try await flush.commit(to: store, replacing: seen) }
        let checkpoint = try ReducerCheckpoint(bytes: try await directory.get(ResultsLayout.checkpoint))
        #expect(checkpoint.commits(flush.name), "B's checkpoint counts A's flush")
        for file in flush.files { #expect(try await directory.getIfPresent(file.key) != nil, "\(file.key) was deleted") }
    }
}
