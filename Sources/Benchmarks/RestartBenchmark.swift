import Common
import Events
import Foundation
import ObjectStorage
import Reducer
import Results

/// What a restarting reducer pays to learn which images its results hold:
/// it lists the id manifests and reads every committed one into memory
/// (`WrittenImages.load`). The benchmark writes `images` synthetic ids as
/// the manifests of `images / flushRecords` flushes, then times that load.
public enum RestartBenchmark {
    public struct Result: Sendable {
        public let images: Int
        public let manifests: Int
        public let manifestBytes: Int
        public let seconds: Double
        /// Peak resident memory before and after the load.
        public let peakBytesBefore: Int
        public let peakBytesAfter: Int
    }

    public static func run(images: Int, flushRecords: Int, store: any ObjectStore) async throws -> Result {
        let epoch: UInt64 = 0x5EED
        var checkpoint = ReducerCheckpoint(dimension: 1)
        var generator = SplitMix64(seed: 42)  // uniform words, like the SHA-256-derived ids
        var manifestBytes = 0
        var written = 0
        while written < images {
            checkpoint.sequence += 1
            let count = min(flushRecords, images - written)
            let keys = (0..<count).map { _ in ImageKey(high: generator.next(), low: generator.next()) }
            let bytes = WrittenImages.encode(keys)
            try await store.put(WrittenImages.manifestKey(.features, FlushName(sequence: checkpoint.sequence, epoch: epoch)), bytes,
                          contentType: "application/octet-stream")
            manifestBytes += bytes.count
            written += count
        }
        checkpoint.epochs.commit(sequence: 1, by: epoch)

        let before = ProcessStats.peakResidentBytes ?? 0
        let started = ContinuousClock.now
        let loaded = try await WrittenImages.load(from: store, committedBy: checkpoint)
        let elapsed = ContinuousClock.now - started
        guard loaded.count == images else {
            throw BenchmarkFailure(description: "loaded \(loaded.count) ids, wrote \(images)")
        }
        return Result(images: images, manifests: checkpoint.sequence, manifestBytes: manifestBytes,
                      seconds: elapsed.seconds,
                      peakBytesBefore: before, peakBytesAfter: ProcessStats.peakResidentBytes ?? 0)
    }

    struct BenchmarkFailure: Error, CustomStringConvertible {
        let description: String
    }
}
