import Parquet

extension ResultsLayout {
    /// `_references/` parts with each image's URI (`path`), from #28 on.
    static let referenceFeaturesWithURIs = ParquetSchema(referenceFeatures.columns + [.init("path", .string)])

    /// The `path` column of a references file, nil when it has none (it was
    /// written before URIs were kept) or it is not one value per row: a URI
    /// only helps an operator look, so a file without is still a reference set.
    static func optionalURIs(in reader: ParquetReader) -> [String?]? {
        guard let paths = try? reader.strings("path"), paths.count == reader.rowCount else { return nil }
        return paths
    }
}
