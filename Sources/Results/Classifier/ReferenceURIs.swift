import Parquet

extension ResultsLayout {
    /// `references.parquet` of a version publishing `knn-full`: the
    /// references' raw features too (5 KiB each at 1,280 dimensions).
    package static let referencesWithFeatures = ParquetSchema(referencesWithURIs.columns + [.init("features", .floatList)])

    /// `references.parquet` from #28 on: each reference's URI in `path`.
    package static let referencesWithURIs = ParquetSchema(references.columns + [.init("path", .string)])

    /// `_references/` parts with each image's URI (`path`), from #28 on.
    package static let referenceFeaturesWithURIs = ParquetSchema(referenceFeatures.columns + [.init("path", .string)])

    /// The `path` column of a references file, nil when it has none (it was
    /// written before URIs were kept) or it is not one value per row: a URI
    /// only helps an operator look, so a file without is still a reference set.
    package static func optionalURIs(in reader: ParquetReader) -> [String?]? {
        guard let paths = try? reader.strings("path"), paths.count == reader.rowCount else { return nil }
        return paths
    }
}
