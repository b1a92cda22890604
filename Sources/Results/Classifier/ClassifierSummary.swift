/// How a model version's classifier works and what it is worth, in its
/// `model.json`: enough for a reader to recompute its answers from the
/// version's `references.parquet`.
public struct ClassifierSummary: Codable, Sendable {
    public let method: String
    public let metric: String
    public let neighbours: Int
    public let references: Int
    public let referencesPerLabel: Int
    public let labels: Int
    public let accuracy: Double
    public let top5Accuracy: Double
    /// The classifier the answers come from (absent before the comparison:
    /// `knn-pca`), and its accuracy on the held-out references.
    public var published: ClassifierKind?
    public var heldOutAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case method, metric, neighbours, references, labels, accuracy
        case referencesPerLabel = "references_per_label"
        case top5Accuracy = "top5_accuracy"
        case published
        case heldOutAccuracy = "held_out_accuracy"
    }

    package init(_ classifier: NearestNeighbours, evaluation: ClassifierEvaluation, perLabel: Int) {
        method = "k-nearest-neighbours, votes weighted by max(similarity, 0), scores normalised to sum 1"
        metric = "cosine"
        neighbours = classifier.neighbours
        references = classifier.count
        referencesPerLabel = perLabel
        labels = Set(classifier.referenceLabels).count
        accuracy = evaluation.accuracy
        top5Accuracy = evaluation.top5Accuracy
    }
}
