import ObjectStorage
import Parquet

extension ResultsLayout {
    /// A version's softmax head, when it publishes one: a row per label,
    /// its `dimension` weights then its bias in `weights`.
    package static func softmax(version: Int) -> String { String(model(version: version).dropLast("model.json".count)) + "softmax.parquet" }

    package static let softmaxHead = ParquetSchema([.init("label", .string), .init("weights", .floatList)])
}

extension SoftmaxClassifier {
    package static func load(version: Int, from store: any ObjectStore, dimension: Int) async throws -> SoftmaxClassifier {
        let key = ResultsLayout.softmax(version: version)
        return try published(bytes: try await store.get(key), file: store.location.uri(of: key), dimension: dimension)
    }

    /// The head a `softmax.parquet` holds, every row checked: distinct
    /// labels, `dimension` + 1 finite numbers each.
    package static func published(bytes: [UInt8], file: String, dimension: Int) throws -> SoftmaxClassifier {
        let reader = try ParquetReader(bytes: bytes, name: file)
        let labels = try reader.strings("label"), rows = try reader.floatLists("weights")
        guard labels.count == reader.rowCount, rows.count == reader.rowCount, reader.rowCount >= 1 else {
            throw UnreadableFile(file: file, why: "its columns hold \(labels.count) and \(rows.count) values for \(reader.rowCount) rows (at least 1)")
        }
        var names: [String] = [], weights: [Float] = [], bias: [Float] = []
        for (index, (label, row)) in zip(labels, rows).enumerated() {
            guard let label, !label.isEmpty, let row, row.count == dimension + 1, row.allSatisfy(\.isFinite) else {
                throw UnreadableFile(file: file, why: "row \(index) is not a label with \(dimension) finite weights and a bias")
            }
            names.append(label)
            weights += row.dropLast()
            bias.append(row[dimension])
        }
        guard Set(names).count == names.count else { throw UnreadableFile(file: file, why: "a label appears twice") }
        return SoftmaxClassifier(labels: names, dimension: dimension, weights: weights, bias: bias)
    }
}
