import Events
import Foundation
import ObjectStorage
import Parquet

extension NearestNeighbours {
    /// The classifier of a published model version, as a reader rebuilds it:
    /// `model.json` and the coordinates of its `references.parquet`.
    static func load(version: Int, from store: any ObjectStore) async throws -> NearestNeighbours {
        let model = try JSONDecoder().decode(PCAModel.self, from: Data(try await store.get(ResultsLayout.model(version: version))))
        let key = ResultsLayout.references(version: version)
        let reader = try ParquetReader(bytes: try await store.get(key))
        let ids = try reader.strings("image_id"), labels = try reader.strings("label"), coordinates = try reader.floatLists("pca")
        var keys: [ImageKey] = [], names: [String] = [], projected: [[Float]] = []
        for index in 0..<reader.rowCount {
            guard let key = ids[index].flatMap(ImageKey.init(imageID:)), let label = labels[index],
                  let pca = coordinates[index], pca.count == model.k
            else { throw ResultsLayout.ForeignFile(reason: "\(key) row \(index) is not a reference of model \(version)") }
            keys.append(key)
            names.append(label)
            projected.append(pca)
        }
        return NearestNeighbours(model: model, keys: keys, labels: names, projected: projected,
                                 neighbours: model.classifier?.neighbours ?? 5)
    }

    /// The version `pca/version` names, nil before the first model.
    static func latestVersion(in store: any ObjectStore) async throws -> Int? {
        try await store.getIfPresent(ResultsLayout.latestVersion).flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
