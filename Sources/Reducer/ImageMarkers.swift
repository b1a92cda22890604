import Common
import Foundation
import Synchronization

/// Which image ids the results already hold, kept in the output store so
/// that the reducer's memory and checkpoint do not grow with the data: one
/// 16-byte marker object per image (`_ids/features/3f/3f0c…`), written by the
/// flush that puts the image in the results, holding that flush's sequence
/// number and the writing process's epoch. A marker counts only if the
/// checkpoint's `EpochHistory` says that epoch committed that flush, so
/// markers of a flush that died before its checkpoint are ignored, and
/// overwritten when the replayed images come through again.
///
/// The cost is one GET per new image and one PUT per accepted one, made
/// `parallelism` at a time: on S3 Standard at list prices ($0.005 per 1,000
/// PUTs, $0.0004 per 1,000 GETs) about $5.40 per million images; on a
/// directory, a small file per image.
struct ImageMarkers: Sendable {
    enum Kind: String, Sendable {
        case features
        case deadLetters = "deadletters"
    }

    let store: any ObjectStore
    var parallelism = 16

    static func key(_ kind: Kind, _ id: ImageKey) -> String {
        let hex = id.hex
        return "_ids/\(kind.rawValue)/\(hex.prefix(2))/\(hex)"
    }

    /// The ids among `ids` whose marker a committed flush wrote.
    func committed(_ ids: [ImageKey], kind: Kind, checkpoint: ReducerCheckpoint) throws -> Set<ImageKey> {
        let found = try forEach(ids) { id -> ImageKey? in
            guard let bytes = try store.getIfPresent(Self.key(kind, id)), let marker = Marker(bytes: bytes) else { return nil }
            let valid = checkpoint.epochs.committed(sequence: marker.sequence, by: marker.epoch, upTo: checkpoint.sequence)
            return valid ? id : nil
        }
        return Set(found.compactMap { $0 })
    }

    /// Marks `ids` as written by flush `sequence` of `epoch`.
    func mark(_ ids: [ImageKey], kind: Kind, sequence: Int, epoch: UInt64) throws {
        let bytes = Marker(sequence: sequence, epoch: epoch).bytes
        _ = try forEach(ids) { id in
            try store.put(Self.key(kind, id), bytes, contentType: "application/octet-stream")
        }
    }

    /// `body` over `ids`, `parallelism` at a time; the first error wins.
    private func forEach<T: Sendable>(_ ids: [ImageKey], _ body: @Sendable (ImageKey) throws -> T) throws -> [T] {
        guard !ids.isEmpty else { return [] }
        let results = Mutex<[Int: T]>([:])
        let failure = Mutex<(any Error)?>(nil)
        let workers = min(parallelism, ids.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: ids.count, by: workers) {
                guard failure.withLock({ $0 == nil }) else { return }
                do {
                    let value = try body(ids[index])
                    results.withLock { $0[index] = value }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { collected in ids.indices.map { collected[$0]! } }
    }

    /// Sequence then epoch, little-endian.
    struct Marker {
        let sequence: Int
        let epoch: UInt64

        init(sequence: Int, epoch: UInt64) {
            self.sequence = sequence
            self.epoch = epoch
        }

        init?(bytes: [UInt8]) {
            guard bytes.count == 16 else { return nil }
            func word(_ start: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[start + $1]) << (8 * $1) } }
            sequence = Int(truncatingIfNeeded: word(0))
            epoch = word(8)
        }

        var bytes: [UInt8] {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(sequence).littleEndian) { bytes += $0 }
            withUnsafeBytes(of: epoch.littleEndian) { bytes += $0 }
            return bytes
        }
    }
}
