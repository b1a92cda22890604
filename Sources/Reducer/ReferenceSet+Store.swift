import Common
import Events
import ObjectStorage
import Parquet
import Results

extension ReferenceSet {
    /// The part of the images of one flush that joined the set, raw features
    /// included (nil if none did). Images that later drop out stay in
    /// their part; loading offers them again and the set takes the same
    /// ones. With ids in random order only about ln(n / perLabel) times
    /// `perLabel` images of a label ever join, so the parts stay small.
    static func file(of joined: [Reference], flush: FlushName) -> FlushCommit.File? {
        guard !joined.isEmpty else { return nil }
        let rows: [[ParquetValue]] = joined.map { [.string($0.key.hex), .string($0.label), .floatList($0.features), .string($0.uri)] }
        return .parquet(ResultsLayout.referencesPart(flush), rows, ResultsLayout.referenceFeaturesWithURIs)
    }

    /// The set the committed flushes built, rebuilt part by part: each batch
    /// of parts is offered as it arrives, so loading holds the set and at
    /// most 16 parts, and the label cap holds while loading too.
    static func load(from store: any ObjectStore, committedBy checkpoint: ReducerCheckpoint, empty: ReferenceSet,
                     dimension: Int) async throws -> ReferenceSet {
        let keys = try await store.list(prefix: "_references/").map(\.key).filter { key in
            FlushName(key: key).map { checkpoint.commits($0) } ?? false
        }
        var set = empty
        for start in stride(from: 0, to: keys.count, by: 16) {
            let parts = try await ConcurrentMap.map(Array(keys[start..<min(start + 16, keys.count)]), parallelism: 16) { key in
                try await part(key, from: store, dimension: dimension)
            }
            for part in parts {
                for reference in part { set.offer(key: reference.key, label: reference.label, features: reference.features, uri: reference.uri) }
            }
        }
        return set
    }

    private static func part(_ key: String, from store: any ObjectStore, dimension: Int) async throws -> [Reference] {
        let file = store.location.uri(of: key)
        let reader = try ParquetReader(bytes: try await store.get(key), name: file)
        let ids = try reader.strings("image_id"), labels = try reader.strings("label"), features = try reader.floatLists("features")
        guard ids.count == reader.rowCount, labels.count == reader.rowCount, features.count == reader.rowCount else {
            throw UnreadableFile(file: file, why: "its columns hold \(ids.count), \(labels.count) and \(features.count) values for \(reader.rowCount) rows")
        }
        let uris = ResultsLayout.optionalURIs(in: reader)
        let rows = zip(ids, zip(labels, features)).enumerated().compactMap { index, row -> Reference? in
            let (id, (label, vector)) = row
            guard let key = id.flatMap(ImageKey.init(imageID:)), let label, let vector,
                  vector.count == dimension, vector.allSatisfy(\.isFinite) else { return nil }
            return Reference(key: key, label: label, features: vector, uri: uris?[index] ?? "")
        }
        guard rows.count == reader.rowCount else {
            throw UnreadableFile(file: file, why: "not a reference part of these results: a row without an image id, a label or \(dimension) finite features")
        }
        return rows
    }
}
