import Common
import Foundation

/// Every classifier kind measured by one protocol (`HeldOutSplit`): fitted
/// on the training references, asked about the held-out ones. Published in
/// `evaluation.json` under `comparison`; the version publishes the best
/// (accuracy, then top-5, then the cheaper kind) unless one is pinned.
package struct ClassifierComparison: Codable, Sendable {
    package struct ConfusedPair: Codable, Sendable, Equatable {
        package let truth: String
        package let answered: String
        package let count: Int

        package init(truth: String, answered: String, count: Int) {
            self.truth = truth
            self.answered = answered
            self.count = count
        }
    }

    package struct Result: Codable, Sendable {
        package let classifier: ClassifierKind
        package let accuracy: Double
        package let top5Accuracy: Double
        package let perLabel: [String: ClassifierEvaluation.LabelRecall]
        /// The most frequent (truth, answer) mistakes, at most 10.
        package let confusedPairs: [ConfusedPair]
        package let fitSeconds: Double
        package let evaluateSeconds: Double

        enum CodingKeys: String, CodingKey {
            case classifier, accuracy
            case top5Accuracy = "top5_accuracy"
            case perLabel = "per_label"
            case confusedPairs = "confused_pairs"
            case fitSeconds = "fit_seconds"
            case evaluateSeconds = "evaluate_seconds"
        }

        package init(classifier: ClassifierKind, accuracy: Double, top5Accuracy: Double, perLabel: [String: ClassifierEvaluation.LabelRecall],
                     confusedPairs: [ConfusedPair], fitSeconds: Double, evaluateSeconds: Double) {
            self.classifier = classifier
            self.accuracy = accuracy
            self.top5Accuracy = top5Accuracy
            self.perLabel = perLabel
            self.confusedPairs = confusedPairs
            self.fitSeconds = fitSeconds
            self.evaluateSeconds = evaluateSeconds
        }
    }

    package let method: String
    package let training: Int
    package let evaluated: Int
    package let results: [Result]
    package let published: ClassifierKind
    package let pinned: Bool

    package var publishedResult: Result? { results.first { $0.classifier == published } }

    package init(method: String, training: Int, evaluated: Int, results: [Result], published: ClassifierKind, pinned: Bool) {
        self.method = method
        self.training = training
        self.evaluated = evaluated
        self.results = results
        self.published = published
        self.pinned = pinned
    }
}
