import Common
import Foundation
import ObjectStorage
import Results

/// `fruits bench classifiers`: every classifier kind on a results folder's
/// latest model and references (rebuilt from `_references/` as a restarted
/// reducer does), by the protocol the reducer publishes with, and what an
/// answer costs with each: one held-out image at a time, as an upload is
/// answered (the softmax head with its kNN neighbours, as the answerer does).
public enum ClassifierBenchmark {
    public struct Row: Sendable {
        public let classifier: String
        public let accuracy: Double
        public let top5Accuracy: Double
        public let fitSeconds: Double
        public let answerP50Milliseconds: Double
        public let answerP95Milliseconds: Double
        /// What the answerer holds for it: coordinates or features of the references, or weights.
        public let modelBytes: Int
    }

    public struct Result: Sendable {
        public let rows: [Row]
        public let training: Int
        public let evaluated: Int
        public let method: String
        /// The best by the reducer's rule, and what the latest version published.
        public let best: String
        public let published: String?
    }

    public static func run(results store: any ObjectStore, dimension: Int = 1280, neighbours: Int = 5,
                           answers: Int = 300) async throws -> Result {
        guard let checkpointBytes = try await store.getIfPresent(ResultsLayout.checkpoint),
              let modelBytes = try await store.getIfPresent(ResultsLayout.model) else {
            throw UnreadableFile(file: store.location.uri(of: ResultsLayout.model), why: "no finished results here (a checkpoint and a model)")
        }
        let checkpoint = try ReducerCheckpoint(bytes: checkpointBytes, dimension: dimension)
        let model = try PCAModel.decode(modelBytes, file: store.location.uri(of: ResultsLayout.model), dimension: dimension)
        let references = try await ReferenceSet.load(from: store, committedBy: checkpoint,
                                                     empty: ReferenceSet(perLabel: model.classifier?.referencesPerLabel ?? 200), dimension: dimension).all
        let (comparison, softmax) = ClassifierComparison.run(model: model, references: references, neighbours: neighbours, options: ClassifierOptions())
        let split = HeldOutSplit(labels: references.map(\.label))
        let training = split.training.map { references[$0] }
        let queries = split.heldOut.prefix(answers).map { references[$0].features }
        let knnPCA = NearestNeighbours(model: model, references: training, neighbours: neighbours)
        var rows: [Row] = []
        for result in comparison.results {
            let answerer: AnsweringClassifier, bytes: Int
            switch result.classifier {
            case .knnPCA:
                (answerer, bytes) = (AnsweringClassifier(neighbours: knnPCA, softmax: nil), training.count * model.k * 4)
            case .knnFull:
                let onFeatures = NearestNeighbours(model: model, references: training, neighbours: neighbours, onFeatures: true)
                (answerer, bytes) = (AnsweringClassifier(neighbours: onFeatures, softmax: nil), training.count * dimension * 4)
            case .softmax:
                (answerer, bytes) = (AnsweringClassifier(neighbours: knnPCA, softmax: softmax), (softmax?.weights.count ?? 0) * 4 + training.count * model.k * 4)
            }
            var durations: [Double] = []
            for query in queries {
                let started = ContinuousClock.now
                _ = answerer.answers(batch: [query])
                durations.append((ContinuousClock.now - started).seconds * 1000)
            }
            durations.sort()
            let percentile = { (p: Double) in durations.isEmpty ? 0 : durations[min(durations.count - 1, Int((Double(durations.count) * p).rounded(.up)) - 1)] }
            rows.append(Row(classifier: result.classifier.rawValue, accuracy: result.accuracy, top5Accuracy: result.top5Accuracy,
                            fitSeconds: result.fitSeconds, answerP50Milliseconds: percentile(0.5), answerP95Milliseconds: percentile(0.95),
                            modelBytes: bytes))
        }
        return Result(rows: rows, training: comparison.training, evaluated: comparison.evaluated, method: comparison.method,
                      best: comparison.published.rawValue, published: model.classifier?.published?.rawValue)
    }
}
