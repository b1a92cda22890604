import Common
import Events
import Foundation
import ObjectStorage
import Results
import Synchronization

/// Which image ids the results hold, as two in-memory sets loaded at start
/// from per-flush id manifests: each flush writes one object per kind,
/// `_ids/features/part-000006-<epoch>.ids`, listing the ids it put in the
/// results (16 bytes each, sorted). A manifest counts only if the
/// checkpoint's `EpochHistory` says its process run committed its flush, so
/// a crashed or fenced flush's manifest is ignored (and swept); it is never
/// overwritten, because its name carries the writer's epoch.
///
/// Cost: one PUT per kind per flush (2,000 records by default), one GET per
/// committed manifest at start, and about 40 bytes of memory per image held
/// (sets of 16-byte keys at most 3/4 full).
///
/// The ids loaded at start and those this process wrote since are kept
/// apart, at no extra memory: "did this process account for it?" then needs
/// no second set of every id (`ExpectedImages`).
package struct WrittenImages: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case features
        case deadLetters = "deadletters"
    }

    private struct Sets: Sendable {
        var features: Set<ImageKey> = []
        var deadLetters: Set<ImageKey> = []

        func contains(_ key: ImageKey, as kind: Kind) -> Bool {
            switch kind {
            case .features: features.contains(key)
            case .deadLetters: deadLetters.contains(key)
            }
        }

        func contains(_ key: ImageKey) -> Bool { features.contains(key) || deadLetters.contains(key) }

        mutating func insert<S: Sequence>(_ keys: S, as kind: Kind) where S.Element == ImageKey {
            switch kind {
            case .features: features.formUnion(keys)
            case .deadLetters: deadLetters.formUnion(keys)
            }
        }

        mutating func reserve(_ count: Int, as kind: Kind) {
            switch kind {
            case .features: features.reserveCapacity(count)
            case .deadLetters: deadLetters.reserveCapacity(count)
            }
        }
    }

    private var loaded = Sets()
    private var added = Sets()

    /// Images with features (a feature is written once, so the two never share one).
    package var count: Int { loaded.features.count + added.features.count }

    func contains(_ key: ImageKey, as kind: Kind) -> Bool {
        loaded.contains(key, as: kind) || added.contains(key, as: kind)
    }

    /// Whether the results held `key` when this process loaded them.
    func heldAtStart(_ key: ImageKey) -> Bool { loaded.contains(key) }

    /// Whether this process wrote `key` (features or a dead letter).
    func writtenSinceStart(_ key: ImageKey) -> Bool { added.contains(key) }

    /// Records what a committed flush wrote.
    mutating func insert<S: Sequence>(_ keys: S, as kind: Kind) where S.Element == ImageKey {
        added.insert(keys, as: kind)
    }

    package static func manifestKey(_ kind: Kind, _ flush: FlushName) -> String {
        "_ids/\(kind.rawValue)/\(flush.fileName(extension: "ids"))"
    }

    /// The manifest of `kind` for `flush` (nil if `keys` is empty).
    package static func manifest(_ keys: [ImageKey], as kind: Kind, flush: FlushName) -> FlushCommit.File? {
        guard !keys.isEmpty else { return nil }
        return FlushCommit.File(key: manifestKey(kind, flush), bytes: encode(keys), contentType: "application/octet-stream")
    }

    /// The ids of every committed manifest in `store`, read `parallelism` at
    /// a time. The sets are sized from the listing first (a manifest's size
    /// gives its count), so they never rehash, and only a few manifests are
    /// in memory at once: 10 M ids would otherwise hold 160 MB of manifests
    /// on top of the sets.
    package static func load(from store: any ObjectStore, committedBy checkpoint: ReducerCheckpoint, parallelism: Int = 16) async throws -> WrittenImages {
        var written = WrittenImages()
        for kind in Kind.allCases {
            let manifests = try await store.list(prefix: "_ids/\(kind.rawValue)/").filter { object in
                FlushName(key: object.key).map { checkpoint.commits($0) } ?? false
            }
            written.loaded.reserve(manifests.reduce(0) { $0 + max(0, $1.size - magic.count) / 16 }, as: kind)
            for start in stride(from: 0, to: manifests.count, by: parallelism * 4) {
                let chunk = manifests[start..<min(start + parallelism * 4, manifests.count)].map(\.key)
                for ids in try await ConcurrentMap.map(chunk, parallelism: parallelism, { try decode(await store.get($0), key: $0) }) {
                    written.loaded.insert(ids, as: kind)
                }
            }
        }
        return written
    }

    private static let magic = Array("FRIDS001".utf8)

    package static func encode(_ keys: [ImageKey]) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(magic.count + keys.count * 16)
        for key in keys.sorted() {
            withUnsafeBytes(of: key.high.bigEndian) { bytes += $0 }
            withUnsafeBytes(of: key.low.bigEndian) { bytes += $0 }
        }
        return bytes
    }

    struct Corrupt: Error, CustomStringConvertible {
        let key: String
        var description: String { "\(key) is not an id manifest of these results" }
    }

    static func decode(_ bytes: [UInt8], key: String) throws -> [ImageKey] {
        guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic),
              (bytes.count - magic.count) % 16 == 0
        else { throw Corrupt(key: key) }
        func word(_ start: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[start + $1]) } }
        return stride(from: magic.count, to: bytes.count, by: 16).map { ImageKey(high: word($0), low: word($0 + 8)) }
    }
}
