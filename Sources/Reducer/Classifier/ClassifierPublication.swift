import Foundation
import Parquet
import Results

/// A model version's classifier files: the references (`references.parquet`,
/// with raw features when `knn-full` is published), `evaluation.json` (the
/// leave-one-out of kNN in PCA space, the held-out comparison, the change
/// from the previous version) and, when it is published, `softmax.parquet`.
/// CPU work: the reducer runs it on its own thread.
struct ClassifierPublication {
    let summary: ClassifierSummary
    let evaluation: ClassifierEvaluation
    let files: [FlushCommit.File]

    init(model: PCAModel, references: [ReferenceSet.Reference], neighbours: Int, perLabel: Int,
         options: ClassifierOptions, previous: ClassifierEvaluation?) throws {
        let version = model.version ?? 0
        let (comparison, softmax) = ClassifierComparison.run(model: model, references: references, neighbours: neighbours, options: options)
        let published = comparison.published
        let classifier = NearestNeighbours(model: model, references: references, neighbours: neighbours, onFeatures: published == .knnFull)
        var evaluation = ClassifierEvaluation(of: classifier, modelVersion: version)
        evaluation.comparison = comparison
        evaluation.quality = QualityChange(version: comparison, previous: previous, threshold: options.qualityDropThreshold)
        var summary = ClassifierSummary(classifier, evaluation: evaluation, perLabel: perLabel)
        summary.published = published
        summary.heldOutAccuracy = comparison.publishedResult?.accuracy

        let withFeatures = published == .knnFull
        let rows: [[ParquetValue]] = classifier.keys.indices.map { index in
            [.string(classifier.keys[index].hex), .string(classifier.referenceLabels[index]), .floatList(classifier.projected[index]),
             .string(references[index].uri)] + (withFeatures ? [.floatList(references[index].features)] : [])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var files: [FlushCommit.File] = [
            .init(key: ResultsLayout.references(version: version),
                  bytes: try ResultsLayout.encode(rows, schema: withFeatures ? ResultsLayout.referencesWithFeatures : ResultsLayout.referencesWithURIs),
                  contentType: ResultsLayout.parquetType),
            .init(key: ResultsLayout.evaluation(version: version), bytes: Array(try encoder.encode(evaluation)), contentType: "application/json"),
        ]
        if published == .softmax {
            // Pinned with no held-out references there is nothing fitted yet: fit on all of them.
            let head = softmax ?? SoftmaxClassifier.fit(features: references.map(\.features), labels: references.map(\.label), fitting: options.fitting)
            files.append(try head.file(version: version))
        }
        self.summary = summary
        self.evaluation = evaluation
        self.files = files
    }
}
