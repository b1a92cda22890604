import Foundation

/// A version's published classifier against the previous version's, both
/// measured on their held-out references; in `evaluation.json` as `quality`.
package struct QualityChange: Codable, Sendable, Equatable {
    package let previousVersion: Int
    package let previousClassifier: ClassifierKind
    package let previousAccuracy: Double
    package let accuracy: Double
    /// In points of accuracy (0.02 = 2 points).
    package let threshold: Double
    package let dropped: Bool

    enum CodingKeys: String, CodingKey {
        case accuracy, threshold, dropped
        case previousVersion = "previous_version"
        case previousClassifier = "previous_classifier"
        case previousAccuracy = "previous_accuracy"
    }

    /// nil when either version has no held-out measurement (a first
    /// version, one without 2 references of any label, or one written
    /// before the comparison existed).
    package init?(version comparison: ClassifierComparison, previous: ClassifierEvaluation?, threshold: Double) {
        guard let now = comparison.publishedResult, let previous, let before = previous.comparison?.publishedResult else { return nil }
        previousVersion = previous.modelVersion
        previousClassifier = before.classifier
        previousAccuracy = before.accuracy
        accuracy = now.accuracy
        self.threshold = threshold
        dropped = before.accuracy - now.accuracy > threshold + 1e-12
    }
}
