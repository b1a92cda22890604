import CLinearAlgebra
import Foundation

/// A linear softmax head on the raw features: each label's score is
/// softmax(W x + b), so the scores of all labels sum to 1. Centering and
/// scaling done while fitting are folded into W and b, so an answer is one
/// matrix product. Published as a version's `softmax.parquet`.
///
/// `tools/check_answers.py` recomputes these answers with numpy from the
/// published file; keep the two in step.
package struct SoftmaxClassifier: Sendable {
    package let labels: [String]
    package let dimension: Int
    /// `labels.count` rows of `dimension` values.
    package let weights: [Float]
    package let bias: [Float]

    package init(labels: [String], dimension: Int, weights: [Float], bias: [Float]) {
        precondition(!labels.isEmpty && weights.count == labels.count * dimension && bias.count == labels.count)
        self.labels = labels
        self.dimension = dimension
        self.weights = weights
        self.bias = bias
    }

    /// Every label's probability for each row, 256 rows per matrix product.
    package func probabilities(batch: [[Float]]) -> [[Float]] {
        let classes = labels.count
        var rows: [[Float]] = []
        rows.reserveCapacity(batch.count)
        for start in stride(from: 0, to: batch.count, by: 256) {
            let block = batch[start..<min(start + 256, batch.count)]
            let input = block.flatMap { row in
                precondition(row.count == dimension, "\(row.count) features for a head of \(dimension)")
                return row
            }
            var logits = [Float](repeating: 0, count: block.count * classes)
            for row in 0..<block.count { logits.replaceSubrange(row * classes..<(row + 1) * classes, with: bias) }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(block.count), Int32(classes), Int32(dimension), 1,
                        input, Int32(dimension), weights, Int32(dimension), 1, &logits, Int32(classes))
            for row in 0..<block.count { rows.append(Self.softmax(logits[row * classes..<(row + 1) * classes])) }
        }
        return rows
    }

    /// The `count` most probable labels of each row, best first (ties by label).
    package func classify(batch: [[Float]], count: Int = 5) -> [[NearestNeighbours.LabelScore]] {
        probabilities(batch: batch).map { row in
            row.indices.sorted { (row[$0], labels[$1]) > (row[$1], labels[$0]) }.prefix(count)
                .map { NearestNeighbours.LabelScore(label: labels[$0], score: row[$0]) }
        }
    }

    package static func softmax(_ logits: ArraySlice<Float>) -> [Float] {
        let top = logits.max() ?? 0
        let exponentials = logits.map { Double(expf($0 - top)) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { Float($0 / total) }
    }
}
