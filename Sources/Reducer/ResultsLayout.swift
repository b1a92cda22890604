import Common

/// The output contract (see README "Output layout").
public enum ResultsLayout {
    public static let checkpoint = "_checkpoint/reducer.ckpt"
    public static let model = "pca/model.json"

    public static func featuresPart(_ sequence: Int) -> String { "features/part-\(padded(sequence)).parquet" }
    public static func deadLettersPart(_ sequence: Int) -> String { "deadletters/part-\(padded(sequence)).parquet" }
    public static func projectedPart(forFeaturesPart key: String) -> String {
        "pca/projected/" + key.dropFirst("features/".count)
    }

    static func padded(_ sequence: Int) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    public static let features = ParquetSchema([
        .init("image_id", .string), .init("path", .string), .init("label", .string), .init("features", .floatList),
        .init("model_version", .string), .init("source", .string),
        .init("ingested_at", .timestamp), .init("extracted_at", .timestamp),
    ])

    public static let deadLetters = ParquetSchema([
        .init("image_id", .string), .init("path", .string), .init("reason", .string), .init("message", .string),
        .init("stage", .string), .init("failed_at", .timestamp),
    ])

    public static let projected = ParquetSchema([
        .init("image_id", .string), .init("path", .string), .init("label", .string), .init("pca", .floatList),
    ])

    static func row(_ event: Fruits_V1_FeatureEvent) -> [ParquetValue] {
        [
            .string(event.imageID), .string(event.uri), .string(event.label), .floatList(event.features),
            .string(event.modelVersion), .string(event.source == .upload ? "upload" : "backfill"),
            .timestamp(event.ingestedAtMicros), .timestamp(event.extractedAtMicros),
        ]
    }

    static func row(_ letter: Fruits_V1_DeadLetter) -> [ParquetValue] {
        [.string(letter.imageID), .string(letter.uri), .string(letter.reason), .string(letter.message),
         .string(letter.stage), .timestamp(letter.failedAtMicros)]
    }

    static func write(_ rows: [[ParquetValue]], schema: ParquetSchema, to store: any ObjectStore, key: String) throws {
        let writer = try ParquetWriter(schema: schema, output: ParquetObjectOutput(store: store, key: key), rowGroupRows: 5_000)
        for row in rows { try writer.append(row) }
        try writer.close()
    }

    /// A file under the results' folders that the reducer did not write.
    struct ForeignFile: Error, CustomStringConvertible {
        let reason: String
        var description: String { "not a features part of these results: \(reason)" }
    }
}
