import Foundation
import ObjectStorage
import Parquet
import Results

/// What a report shows, read from a results folder: the PCA model, every
/// image's first two coordinates and label, and the dead letters' reasons.
public struct ResultsSummary: Sendable {
    public struct Point: Sendable {
        public let label: String
        public let x: Float
        public let y: Float
    }

    public var model: PCAModel?
    /// At most `maxPoints`: the images with the smallest ids, a uniform and
    /// repeatable sample (ids are hashes).
    public var points: [Point] = []
    /// Images per label, over all projected images (not only the sample).
    public var labelCounts: [String: Int] = [:]
    public var deadLetterReasons: [String: Int] = [:]
    /// Parts that could not be read as what their folder promises, with
    /// why: left out of the counts, shown, never a crash.
    public var unreadableParts: [(key: String, reason: String)] = []
    /// Every model version's classifier evaluation.
    public var classifier = ClassifierHistory()

    public var images: Int { labelCounts.values.reduce(0, +) }
    public var isSampled: Bool { points.count < images }

    public init() {}

    /// Enough points to show every label's cloud, few enough for a browser to draw at once.
    public static let defaultMaxPoints = 20_000

    public static func load(from store: any ObjectStore, maxPoints: Int = defaultMaxPoints) async throws -> ResultsSummary {
        var summary = ResultsSummary()
        if let bytes = try await store.getIfPresent(ResultsLayout.model) {
            summary.model = try PCAModel.decode(bytes, file: store.location.uri(of: ResultsLayout.model))
        }
        var rows: [(id: String, point: Point)] = []
        for part in try await store.list(prefix: "pca/projected/") where part.key.hasSuffix(".parquet") {
            do {
                let reader = try ParquetReader(bytes: try await store.get(part.key))
                let ids = try reader.strings("image_id"), labels = try reader.strings("label"), coordinates = try reader.floatLists("pca")
                try Self.requireRows(reader.rowCount, in: [ids.count, labels.count, coordinates.count])
                for index in 0..<reader.rowCount {
                    let label = labels[index].flatMap { $0.isEmpty ? nil : $0 } ?? "(no label)"
                    summary.labelCounts[label, default: 0] += 1
                    guard let pca = coordinates[index], pca.count >= 2 else { continue }
                    rows.append((ids[index] ?? "", Point(label: label, x: pca[0], y: pca[1])))
                }
            } catch {
                summary.unreadableParts.append((part.key, "\(error)"))
            }
            if rows.count > 2 * maxPoints { rows = smallest(rows, maxPoints) }
        }
        summary.points = smallest(rows, maxPoints).map(\.point)
        summary.classifier = try await ClassifierHistory.load(from: store)
        for part in try await store.list(prefix: "deadletters/") where part.key.hasSuffix(".parquet") {
            do {
                let reader = try ParquetReader(bytes: try await store.get(part.key))
                let reasons = try reader.strings("reason")
                try Self.requireRows(reader.rowCount, in: [reasons.count])
                for reason in reasons { summary.deadLetterReasons[reason ?? "(none)", default: 0] += 1 }
            } catch {
                summary.unreadableParts.append((part.key, "\(error)"))
            }
        }
        return summary
    }

    /// A column shorter or longer than the footer's row count is a damaged
    /// or foreign file, not an index to trust.
    private static func requireRows(_ rowCount: Int, in columns: [Int]) throws {
        guard columns.allSatisfy({ $0 == rowCount }) else {
            throw DamagedPart(description: "its columns hold \(columns) values for \(rowCount) rows")
        }
    }

    private static func smallest(_ rows: [(id: String, point: Point)], _ count: Int) -> [(id: String, point: Point)] {
        rows.count <= count ? rows : Array(rows.sorted { $0.id < $1.id }.prefix(count))
    }
}

struct DamagedPart: Error, CustomStringConvertible {
    let description: String
}
