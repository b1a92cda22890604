import Foundation
import ObjectStorage

/// What a classifier's answers are worth, published beside each model as
/// `evaluation.json`: leave-one-out over the reference set (each evaluated
/// reference is classified by all the others), on at most `limit`
/// references, the ones with the smallest ids (a uniform sample, the same on
/// every run).
package struct ClassifierEvaluation: Codable, Sendable {
    package struct LabelRecall: Codable, Sendable {
        package let evaluated: Int
        package let recall: Double

        package init(evaluated: Int, recall: Double) {
            self.evaluated = evaluated
            self.recall = recall
        }
    }

    package var modelVersion: Int
    package let method: String
    package let neighbours: Int
    package let references: Int
    package let evaluated: Int
    package let accuracy: Double
    package let top5Accuracy: Double
    package let perLabel: [String: LabelRecall]
    /// Every classifier kind on held-out references, and which is published.
    package var comparison: ClassifierComparison?
    /// Against the previous version's published classifier.
    package var quality: QualityChange?

    enum CodingKeys: String, CodingKey {
        case method, neighbours, references, evaluated, accuracy, comparison, quality
        case modelVersion = "model_version"
        case top5Accuracy = "top5_accuracy"
        case perLabel = "per_label"
    }

    package static let defaultLimit = 2_000

    package init(of classifier: NearestNeighbours, modelVersion: Int, limit: Int = defaultLimit) {
        let sample = classifier.keys.indices.sorted { classifier.keys[$0] < classifier.keys[$1] }.prefix(limit)
        let answers = classifier.leaveOneOut(Array(sample))
        var first = 0, topFive = 0
        var perLabel: [String: (evaluated: Int, correct: Int)] = [:]
        for (index, answer) in zip(sample, answers) {
            let truth = classifier.referenceLabels[index]
            let right = answer.first?.label == truth
            if right { first += 1 }
            if answer.prefix(5).contains(where: { $0.label == truth }) { topFive += 1 }
            perLabel[truth, default: (0, 0)].evaluated += 1
            if right { perLabel[truth, default: (0, 0)].correct += 1 }
        }
        let count = max(sample.count, 1)
        self.modelVersion = modelVersion
        method = "leave-one-out"
        neighbours = classifier.neighbours
        references = classifier.count
        evaluated = sample.count
        accuracy = Double(first) / Double(count)
        top5Accuracy = Double(topFive) / Double(count)
        self.perLabel = perLabel.mapValues { LabelRecall(evaluated: $0.evaluated, recall: Double($0.correct) / Double($0.evaluated)) }
    }
}

extension ClassifierEvaluation {
    /// A published version's evaluation, nil if there is none or it cannot
    /// be read: the quality trend then starts again from this version.
    package static func published(version: Int, in store: any ObjectStore) async -> ClassifierEvaluation? {
        guard version >= 1, let bytes = try? await store.getIfPresent(ResultsLayout.evaluation(version: version)) else { return nil }
        return try? JSONDecoder().decode(ClassifierEvaluation.self, from: Data(bytes))
    }
}
