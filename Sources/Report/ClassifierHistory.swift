import Common
import Foundation
import ObjectStorage

/// What the report shows of the classifier: each model version's
/// `pca/models/<v>/evaluation.json`, read as a reader of that contract
/// (only the fields shown), oldest version first. Its own types rather than
/// `ClassifierEvaluation`: kinds are strings here, so a report older than
/// the reducer still shows a version whose classifier it does not know.
public struct ClassifierHistory: Sendable {
    public struct Version: Sendable, Decodable {
        public let modelVersion: Int
        /// Leave-one-out of kNN in PCA space (every version has it).
        public let method: String
        public let evaluated: Int
        public let accuracy: Double
        public let top5Accuracy: Double
        public let comparison: Comparison?
        public let quality: Quality?

        enum CodingKeys: String, CodingKey {
            case method, evaluated, accuracy, comparison, quality
            case modelVersion = "model_version"
            case top5Accuracy = "top5_accuracy"
        }
    }

    public struct Comparison: Sendable, Decodable {
        public let method: String
        public let training: Int
        public let evaluated: Int
        public let results: [Result]
        public let published: String
        public let pinned: Bool

        public var publishedResult: Result? { results.first { $0.classifier == published } }
    }

    public struct Result: Sendable, Decodable {
        public let classifier: String
        public let accuracy: Double
        public let top5Accuracy: Double
        public let perLabel: [String: Recall]
        public let confusedPairs: [ConfusedPair]
        public let fitSeconds: Double

        enum CodingKeys: String, CodingKey {
            case classifier, accuracy
            case top5Accuracy = "top5_accuracy"
            case perLabel = "per_label"
            case confusedPairs = "confused_pairs"
            case fitSeconds = "fit_seconds"
        }
    }

    public struct Recall: Sendable, Decodable {
        public let evaluated: Int
        public let recall: Double
    }

    public struct ConfusedPair: Sendable, Decodable {
        public let truth: String
        public let answered: String
        public let count: Int
    }

    public struct Quality: Sendable, Decodable {
        public let previousVersion: Int
        public let previousAccuracy: Double
        public let accuracy: Double
        public let threshold: Double
        public let dropped: Bool

        enum CodingKeys: String, CodingKey {
            case accuracy, threshold, dropped
            case previousVersion = "previous_version"
            case previousAccuracy = "previous_accuracy"
        }
    }

    public var versions: [Version] = []
    /// Evaluation files that could not be read, with why: left out, shown.
    public var unreadable: [(key: String, reason: String)] = []

    public var latest: Version? { versions.last }

    /// The latest versions: enough for the curve of a long run (a version a
    /// minute is 3 hours), few enough to read quickly (about 30 KiB each, 16 at a time).
    public static let defaultMaxVersions = 200

    public static func load(from store: any ObjectStore, maxVersions: Int = defaultMaxVersions) async throws -> ClassifierHistory {
        var history = ClassifierHistory()
        let keys = try await store.list(prefix: "pca/models/").map(\.key).filter { $0.hasSuffix("/evaluation.json") }.sorted().suffix(maxVersions)
        let read = try await ConcurrentMap.map(Array(keys), parallelism: 16) { key -> Swift.Result<Version, DamagedPart> in
            do {
                return .success(try JSONDecoder().decode(Version.self, from: Data(try await store.get(key))))
            } catch {
                return .failure(DamagedPart(description: "\(key): \(error)"))
            }
        }
        for (key, result) in zip(keys, read) {
            switch result {
            case .success(let version): history.versions.append(version)
            case .failure(let damage): history.unreadable.append((key, damage.description))
            }
        }
        history.versions.sort { $0.modelVersion < $1.modelVersion }
        return history
    }
}
