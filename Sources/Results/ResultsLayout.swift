import Common
import Events
import ObjectStorage
import Parquet

/// The output contract (README "Output layout"; in full in docs/reducer-design.md).
public enum ResultsLayout {
    public static let checkpoint = "_checkpoint/reducer.ckpt"
    public static let model = "pca/model.json"
    /// The version number of `pca/model.json`, written after it: a few
    /// bytes to poll for a new model.
    public static let latestVersion = "pca/version"
    /// Every published model, immutable, in its version's folder:
    /// `pca/models/000007/model.json`, with the classifier's reference set
    /// (`references.parquet`) and its `evaluation.json`.
    public static func model(version: Int) -> String { modelFolder(version) + "model.json" }
    public static func references(version: Int) -> String { modelFolder(version) + "references.parquet" }
    public static func evaluation(version: Int) -> String { modelFolder(version) + "evaluation.json" }

    private static func modelFolder(_ version: Int) -> String {
        let digits = String(version)
        return "pca/models/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "/"
    }

    public static func featuresPart(_ flush: FlushName) -> String { "features/" + flush.fileName(extension: "parquet") }
    public static func deadLettersPart(_ flush: FlushName) -> String { "deadletters/" + flush.fileName(extension: "parquet") }
    public static func projectedPart(forFeaturesPart key: String) -> String {
        "pca/projected/" + key.dropFirst("features/".count)
    }
    /// The raw features of the images that joined the classifier's
    /// reference set in a flush: what a restarted reducer rebuilds it from.
    package static func referencesPart(_ flush: FlushName) -> String { "_references/" + flush.fileName(extension: "parquet") }

    /// Every folder the reducer writes.
    package static let folders = ["_checkpoint/", "features/", "deadletters/", "_ids/", "_references/", "pca/"]

    public static let features = ParquetSchema([
        .init("image_id", .string), .init("path", .string), .init("label", .string), .init("features", .floatList),
        .init("model_version", .string), .init("source", .string),
        .init("ingested_at", .timestamp), .init("extracted_at", .timestamp),
        // How the JPEG became pixels (DecodeOptions.description, e.g. "exact,stored"): results never mix decodes silently.
        .init("decode", .string),
    ])

    public static let deadLetters = ParquetSchema([
        .init("image_id", .string), .init("path", .string), .init("reason", .string), .init("message", .string),
        .init("stage", .string), .init("failed_at", .timestamp),
    ])

    /// `model_version`: the model whose coordinates `pca` holds. A flush
    /// projects with the model of that moment; finalizing re-projects every
    /// part with the final model.
    public static let projected = ParquetSchema([
        .init("image_id", .string), .init("path", .string), .init("label", .string), .init("pca", .floatList),
        .init("model_version", .int64),
    ])

    /// A model version's reference set: the labelled images its classifier
    /// compares against, with their coordinates under that model.
    public static let references = ParquetSchema([
        .init("image_id", .string), .init("label", .string), .init("pca", .floatList),
    ])

    /// `_references/` parts: raw features, to re-project under later models.
    package static let referenceFeatures = ParquetSchema([
        .init("image_id", .string), .init("label", .string), .init("features", .floatList),
    ])

    package static func row(_ event: Fruits_V1_FeatureEvent) -> [ParquetValue] {
        [
            .string(event.imageID), .string(event.uri), .string(event.label), .floatList(event.features),
            .string(event.modelVersion), .string(event.source == .upload ? "upload" : "backfill"),
            .timestamp(event.ingestedAtMicros), .timestamp(event.extractedAtMicros), .string(event.decode),
        ]
    }

    package static func row(_ letter: Fruits_V1_DeadLetter) -> [ParquetValue] {
        [.string(letter.imageID), .string(letter.uri), .string(letter.reason), .string(letter.message),
         .string(letter.stage), .timestamp(letter.failedAtMicros)]
    }

    /// One object, put once the file is whole: a reader never sees part of it.
    package static func write(_ rows: [[ParquetValue]], schema: ParquetSchema, to store: any ObjectStore, key: String) async throws {
        try await store.put(key, try encode(rows, schema: schema), contentType: parquetType)
    }

    package static let parquetType = "application/vnd.apache.parquet"

    package static func encode(_ rows: [[ParquetValue]], schema: ParquetSchema) throws -> [UInt8] {
        let file = ParquetMemoryOutput()
        var layout = ParquetWriter.Layout()
        layout.rowGroupRows = 5_000
        let writer = try ParquetWriter(schema: schema, output: file, layout: layout)
        for row in rows { try writer.append(row) }
        try writer.close()
        return file.bytes
    }

    /// A file under the results' folders that the reducer did not write.
    package struct ForeignFile: Error, CustomStringConvertible {
        package let reason: String
        package init(reason: String) { self.reason = reason }
        package var description: String { "not a features part of these results: \(reason)" }
    }
}

/// Which flush wrote a file: its sequence number and the writing process
/// run's epoch, as in `part-000006-00c0ffee00c0ffee.parquet`. The epoch
/// keeps a fenced or crashed writer from ever overwriting a committed file.
public struct FlushName: Hashable, Sendable {
    public let sequence: Int
    public let epoch: UInt64

    public init(sequence: Int, epoch: UInt64) {
        self.sequence = sequence
        self.epoch = epoch
    }

    public func fileName(extension ext: String) -> String {
        let digits = String(sequence), hex = String(epoch, radix: 16)
        return "part-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
            + "-" + String(repeating: "0", count: 16 - hex.count) + hex + "." + ext
    }

    /// Parses the last path component of `key`; nil for any other name.
    public init?(key: String) {
        let name = key.split(separator: "/").last.map(String.init) ?? ""
        let fields = name.split(separator: ".", maxSplits: 1).first?.split(separator: "-") ?? []
        guard fields.count == 3, fields[0] == "part", fields[1].count >= 6, fields[2].count == 16,
              fields[1].allSatisfy(\.isASCII), let sequence = Int(fields[1]), sequence >= 0,
              fields[2].allSatisfy({ $0.isHexDigit && !$0.isUppercase }), let epoch = UInt64(fields[2], radix: 16)
        else { return nil }
        self.init(sequence: sequence, epoch: epoch)
    }
}
