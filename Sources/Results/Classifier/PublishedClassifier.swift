import Events
import Foundation
import ObjectStorage
import Parquet

extension NearestNeighbours {
    /// The classifier of a published model version, as a reader rebuilds it:
    /// `model.json` and the coordinates of its `references.parquet`, for
    /// features of `dimension` values.
    package static func load(version: Int, from store: any ObjectStore, dimension: Int) async throws -> NearestNeighbours {
        let modelKey = ResultsLayout.model(version: version), referencesKey = ResultsLayout.references(version: version)
        return try published(
            model: (try await store.get(modelKey), store.location.uri(of: modelKey)),
            references: (try await store.get(referencesKey), store.location.uri(of: referencesKey)),
            version: version, dimension: dimension)
    }

    /// The classifier those two files hold, every shape and count checked
    /// before anything is indexed or multiplied; an error names the file at fault.
    package static func published(model: (bytes: [UInt8], file: String), references: (bytes: [UInt8], file: String),
                          version: Int, dimension: Int) throws -> NearestNeighbours {
        let pcaModel = try PCAModel.decode(model.bytes, file: model.file, dimension: dimension)
        guard pcaModel.version == version else {
            throw UnreadableFile(file: model.file, why: "it says version \(pcaModel.version.map(String.init) ?? "none"), not \(version)")
        }
        func unreadable(_ why: String) -> UnreadableFile { UnreadableFile(file: references.file, why: why) }
        let reader = try ParquetReader(bytes: references.bytes, name: references.file)
        let ids = try reader.strings("image_id"), labels = try reader.strings("label"), coordinates = try reader.floatLists("pca")
        guard ids.count == reader.rowCount, labels.count == reader.rowCount, coordinates.count == reader.rowCount else {
            throw unreadable("its columns hold \(ids.count), \(labels.count) and \(coordinates.count) values for \(reader.rowCount) rows")
        }
        if let summary = pcaModel.classifier, summary.references != reader.rowCount {
            throw unreadable("\(reader.rowCount) references, and its model.json says \(summary.references)")
        }
        var keys: [ImageKey] = [], names: [String] = [], projected: [[Float]] = []
        for index in 0..<reader.rowCount {
            guard let key = ids[index].flatMap(ImageKey.init(imageID:)), let label = labels[index],
                  let pca = coordinates[index], pca.count == pcaModel.k, pca.allSatisfy(\.isFinite)
            else { throw unreadable("row \(index) is not a reference of model \(version) (an image id, a label and \(pcaModel.k) finite coordinates)") }
            keys.append(key)
            names.append(label)
            projected.append(pca)
        }
        let onFeatures = pcaModel.classifier?.published == .knnFull
        let features = onFeatures ? try reader.floatLists("features") : []
        if onFeatures {
            guard features.count == reader.rowCount,
                  features.allSatisfy({ $0.map { $0.count == dimension && $0.allSatisfy(\.isFinite) } ?? false })
            else { throw unreadable("its model publishes knn-full, and not every row has \(dimension) finite features") }
        }
        if let summary = pcaModel.classifier, summary.labels != Set(names).count {
            throw unreadable("references of \(Set(names).count) labels, and its model.json says \(summary.labels)")
        }
        // `neighbours` above the number of references is a classifier of few
        // images, not damage: every reference votes.
        var classifier = NearestNeighbours(model: pcaModel, keys: keys, labels: names, projected: projected,
                                           neighbours: pcaModel.classifier?.neighbours ?? 5, features: onFeatures ? features.map { $0! } : nil)
        classifier.referenceURIs = ResultsLayout.optionalURIs(in: reader)?.map { $0 ?? "" } ?? []
        return classifier
    }

    /// The version `pca/version` names, nil before the first model.
    package static func latestVersion(in store: any ObjectStore) async throws -> Int? {
        try await store.getIfPresent(ResultsLayout.latestVersion).flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
