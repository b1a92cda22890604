import Events
import ObjectStorage

/// What an answerer answers with: the version's published classifier for
/// the labels, and its k nearest references (in the space of the published
/// kNN, PCA for a softmax head) as the answer's neighbours: the labelled
/// photos most like the image.
package struct AnsweringClassifier: Sendable {
    package let neighbours: NearestNeighbours
    package let softmax: SoftmaxClassifier?

    package init(neighbours: NearestNeighbours, softmax: SoftmaxClassifier?) {
        self.neighbours = neighbours
        self.softmax = softmax
    }

    package var model: PCAModel { neighbours.model }
    package var count: Int { neighbours.count }
    package var kind: ClassifierKind { softmax == nil ? (neighbours.referenceFeatures == nil ? .knnPCA : .knnFull) : .softmax }

    package struct Answer: Sendable {
        package let pca: [Float]
        package let top: [NearestNeighbours.LabelScore]
        package let neighbours: [(key: ImageKey, label: String, similarity: Float, uri: String)]
    }

    package func answers(batch: [[Float]]) -> [Answer] {
        let votes = neighbours.answers(batch: batch)
        let heads = softmax?.classify(batch: batch)
        return votes.enumerated().map { index, answer in
            Answer(pca: answer.pca, top: heads?[index] ?? answer.vote.top,
                   neighbours: answer.vote.nearest.map { nearest in
                       (neighbours.keys[nearest.index], neighbours.referenceLabels[nearest.index], nearest.similarity,
                        neighbours.referenceURIs.indices.contains(nearest.index) ? neighbours.referenceURIs[nearest.index] : "")
                   })
        }
    }

    /// A published version, every file it names checked as it is read.
    package static func load(version: Int, from store: any ObjectStore, dimension: Int) async throws -> AnsweringClassifier {
        let neighbours = try await NearestNeighbours.load(version: version, from: store, dimension: dimension)
        let softmax = neighbours.model.classifier?.published == .softmax
            ? try await SoftmaxClassifier.load(version: version, from: store, dimension: dimension) : nil
        return AnsweringClassifier(neighbours: neighbours, softmax: softmax)
    }
}
