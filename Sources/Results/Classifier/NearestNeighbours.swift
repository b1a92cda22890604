import CLinearAlgebra
import Events
import Foundation

/// A k-nearest-neighbour classifier in a PCA model's space: cosine
/// similarity to every reference, the `neighbours` most similar vote for
/// their label with weight max(similarity, 0) (equal weights if none is
/// positive), and each label's score is its share of the votes, so the
/// scores of the labels that got votes sum to 1.
///
/// `tools/check_answers.py` recomputes these answers with numpy from the
/// published model and reference set; keep the two in step.
package struct NearestNeighbours: Sendable {
    package struct LabelScore: Sendable, Equatable {
        package let label: String
        package let score: Float
    }

    package let model: PCAModel
    package let neighbours: Int
    /// The references: ids, labels and coordinates under `model`, in one order.
    package let keys: [ImageKey]
    package let referenceLabels: [String]
    package let projected: [[Float]]
    /// The references' raw features when neighbours are searched among
    /// them (`knn-full`); nil: among the PCA coordinates.
    package let referenceFeatures: [[Float]]?
    /// The references' URIs when known (a published set read back), else empty.
    package var referenceURIs: [String] = []
    private let projector: Projector
    private let labelIndex: [Int]
    private let labels: [String]
    /// `keys.count` rows of `width` floats, each of length 1 (or 0).
    private let unitRows: [Float]
    /// `model.k`, or the features' dimension for `knn-full`.
    private let width: Int

    /// From references with raw features, projected here (the reducer, at publish).
    package init(model: PCAModel, references: [ReferenceSet.Reference], neighbours: Int = 5, onFeatures: Bool = false) {
        self.init(model: model, keys: references.map(\.key), labels: references.map(\.label),
                  projected: Projector(model).project(rows: references.map(\.features)), neighbours: neighbours,
                  features: onFeatures ? references.map(\.features) : nil)
    }

    /// From references already projected (a version's `references.parquet`).
    package init(model: PCAModel, keys: [ImageKey], labels referenceLabels: [String], projected: [[Float]], neighbours: Int = 5,
         features: [[Float]]? = nil) {
        precondition(neighbours >= 1)
        precondition(keys.count == referenceLabels.count && keys.count == projected.count)
        self.model = model
        self.neighbours = neighbours
        self.keys = keys
        self.referenceLabels = referenceLabels
        self.projected = projected
        referenceFeatures = features
        precondition(features.map { $0.count == keys.count } ?? true)
        projector = Projector(model)
        width = features == nil ? model.k : model.mean.count
        labels = Array(Set(referenceLabels)).sorted()
        let indices = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        labelIndex = referenceLabels.map { indices[$0]! }
        unitRows = (features ?? projected).flatMap(Self.unit)
    }

    package var count: Int { keys.count }

    /// The image's coordinates and its best labels, best first (at most
    /// `neighbours` of them); no labels without references.
    package func classify(features: [Float]) -> (pca: [Float], top: [LabelScore]) {
        classify(batch: [features])[0]
    }

    /// `classify(features:)` for many images at once: one matrix product per
    /// block instead of two vector products per image. Products that small
    /// cost OpenBLAS more in waking its threads than in arithmetic, and on
    /// busy cores the answerer fell behind the features it answers.
    package func classify(batch: [[Float]]) -> [(pca: [Float], top: [LabelScore])] {
        answers(batch: batch).map { ($0.pca, $0.vote.top) }
    }

    /// `classify(batch:)` with the neighbours that voted.
    package func answers(batch: [[Float]]) -> [(pca: [Float], vote: Vote)] {
        let coordinates = projector.project(rows: batch)
        let votes = nearest(to: (referenceFeatures == nil ? coordinates : batch).map(Self.unit), excluding: nil)
        return Array(zip(coordinates, votes))
    }

    /// The labels' scores and the references that voted, most similar first.
    package struct Vote: Sendable {
        package let top: [LabelScore]
        package let nearest: [(index: Int, similarity: Float)]
    }

    /// Leave-one-out answers for references `indices`: each classified by all the others.
    package func leaveOneOut(_ indices: [Int]) -> [[LabelScore]] {
        let k = width
        return nearest(to: indices.map { Array(unitRows[$0 * k..<($0 + 1) * k]) }, excluding: indices).map(\.top)
    }

    /// The votes for unit-length `queries`, query i not counting reference
    /// `excluded[i]`. Similarities in blocks of 256 queries (one matrix
    /// product each), so memory stays at 256 x references floats.
    private func nearest(to queries: [[Float]], excluding excluded: [Int]?) -> [Vote] {
        guard !keys.isEmpty else { return queries.map { _ in Vote(top: [], nearest: []) } }
        let n = keys.count, k = width
        var answers: [Vote] = []
        answers.reserveCapacity(queries.count)
        for start in stride(from: 0, to: queries.count, by: 256) {
            let block = start..<min(start + 256, queries.count)
            let rows = queries[block].flatMap { $0 }
            var similarities = [Float](repeating: 0, count: block.count * n)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(block.count), Int32(n), Int32(k), 1,
                        rows, Int32(k), unitRows, Int32(k), 0, &similarities, Int32(n))
            for (row, query) in block.enumerated() {
                answers.append(vote(similarities[row * n..<(row + 1) * n], excluding: excluded?[query]))
            }
        }
        return answers
    }

    private func vote(_ similarities: ArraySlice<Float>, excluding excluded: Int?) -> Vote {
        // The most similar first; ties go to the earlier reference (label, then id order).
        var nearest: [(similarity: Float, index: Int)] = []
        for (index, similarity) in zip(0..., similarities) where index != excluded {
            guard nearest.count < neighbours || similarity > nearest[nearest.count - 1].similarity else { continue }
            let position = nearest.partitioningIndex { $0.similarity < similarity }
            nearest.insert((similarity, index), at: position)
            if nearest.count > neighbours { nearest.removeLast() }
        }
        var weights = nearest.map { max($0.similarity, 0) }
        if weights.allSatisfy({ $0 == 0 }) { weights = weights.map { _ in 1 } }
        var votes: [Int: Float] = [:]
        for ((_, index), weight) in zip(nearest, weights) { votes[labelIndex[index], default: 0] += weight }
        let total = votes.values.reduce(0, +)
        let top = votes.map { LabelScore(label: labels[$0.key], score: $0.value / total) }
            .sorted { ($0.score, $1.label) > ($1.score, $0.label) }
        return Vote(top: top, nearest: nearest.map { ($0.index, $0.similarity) })
    }

    private static func unit(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        return norm > 0 ? vector.map { Float(Double($0) / norm) } : vector
    }
}
