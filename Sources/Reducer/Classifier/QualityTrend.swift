import Foundation
import Logging
import Metrics

/// A version's published classifier against the previous version's, both
/// measured on their held-out references; in `evaluation.json` as `quality`.
struct QualityChange: Codable, Sendable, Equatable {
    let previousVersion: Int
    let previousClassifier: ClassifierKind
    let previousAccuracy: Double
    let accuracy: Double
    /// In points of accuracy (0.02 = 2 points).
    let threshold: Double
    let dropped: Bool

    enum CodingKeys: String, CodingKey {
        case accuracy, threshold, dropped
        case previousVersion = "previous_version"
        case previousClassifier = "previous_classifier"
        case previousAccuracy = "previous_accuracy"
    }

    /// nil when either version has no held-out measurement (a first
    /// version, one without 2 references of any label, or one written
    /// before the comparison existed).
    init?(version comparison: ClassifierComparison, previous: ClassifierEvaluation?, threshold: Double) {
        guard let now = comparison.publishedResult, let previous, let before = previous.comparison?.publishedResult else { return nil }
        previousVersion = previous.modelVersion
        previousClassifier = before.classifier
        previousAccuracy = before.accuracy
        accuracy = now.accuracy
        self.threshold = threshold
        dropped = before.accuracy - now.accuracy > threshold + 1e-12
    }
}

/// Logs and counts the drops (`fruits_classifier_quality_drops_total`).
struct QualityTrend: Sendable {
    private let drops = Counter(label: "fruits_classifier_quality_drops_total")

    func record(_ change: QualityChange?, version: Int, logger: Logger) {
        guard let change, change.dropped else { return }
        drops.increment()
        logger.warning("the published classifier got worse than the previous version's", metadata: [
            "version": "\(version)", "previous_version": "\(change.previousVersion)",
            "accuracy": "\(String(format: "%.4f", change.accuracy))", "previous_accuracy": "\(String(format: "%.4f", change.previousAccuracy))",
            "threshold": "\(change.threshold)"])
    }
}
