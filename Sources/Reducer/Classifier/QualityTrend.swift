import Logging
import Metrics
import Results

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
