import Common
import Foundation
import Results

extension ClassifierComparison {
    /// The comparison, and the softmax head fitted on the training part (the
    /// one measured, and the one published if it wins).
    static func run(model: PCAModel, references: [ReferenceSet.Reference], neighbours: Int,
                    options: ClassifierOptions) -> (comparison: ClassifierComparison, softmax: SoftmaxClassifier?) {
        let split = HeldOutSplit(labels: references.map(\.label), fraction: options.heldOutFraction, seed: options.seed)
        let training = split.training.map { references[$0] }, heldOut = split.heldOut.map { references[$0] }
        var results: [Result] = []
        var softmax: SoftmaxClassifier?
        if !heldOut.isEmpty {
            let queries = heldOut.map(\.features), truths = heldOut.map(\.label)
            for kind in ClassifierKind.allCases {
                let fitStart = ContinuousClock.now
                let answer: ([[Float]]) -> [[NearestNeighbours.LabelScore]]
                switch kind {
                case .knnPCA, .knnFull:
                    let classifier = NearestNeighbours(model: model, references: training, neighbours: neighbours, onFeatures: kind == .knnFull)
                    answer = { classifier.answers(batch: $0).map(\.vote.top) }
                case .softmax:
                    let head = SoftmaxClassifier.fit(features: training.map(\.features), labels: training.map(\.label), fitting: options.fitting)
                    softmax = head
                    answer = { head.classify(batch: $0) }
                }
                let fitted = ContinuousClock.now
                let answers = answer(queries)
                results.append(score(kind, answers: answers, truths: truths, fit: fitted - fitStart, evaluate: .now - fitted))
            }
        }
        let published: ClassifierKind
        switch options.choice {
        // A head needs references to fit on; without any, it answers nothing either way.
        case .pinned(let kind): published = kind == .softmax && references.isEmpty ? .knnPCA : kind
        case .best: published = best(of: results) ?? .knnPCA
        }
        let comparison = ClassifierComparison(method: split.method, training: training.count, evaluated: heldOut.count,
                                              results: results, published: published, pinned: options.choice != .best)
        return (comparison, softmax)
    }

    /// The most accurate, then the best top-5, then the first kind (the cheaper).
    static func best(of results: [Result]) -> ClassifierKind? {
        results.enumerated().max { a, b in
            (a.element.accuracy, a.element.top5Accuracy, -a.offset) < (b.element.accuracy, b.element.top5Accuracy, -b.offset)
        }?.element.classifier
    }

    private static func score(_ kind: ClassifierKind, answers: [[NearestNeighbours.LabelScore]], truths: [String],
                      fit: Duration, evaluate: Duration) -> Result {
        var first = 0, topFive = 0
        var perLabel: [String: (evaluated: Int, correct: Int)] = [:]
        var confusions: [String: [String: Int]] = [:]
        for (answer, truth) in zip(answers, truths) {
            let answered = answer.first?.label ?? ""
            perLabel[truth, default: (0, 0)].evaluated += 1
            if answered == truth {
                first += 1
                perLabel[truth, default: (0, 0)].correct += 1
            } else {
                confusions[truth, default: [:]][answered, default: 0] += 1
            }
            if answer.prefix(5).contains(where: { $0.label == truth }) { topFive += 1 }
        }
        let pairs = confusions.flatMap { truth, answers in answers.map { ConfusedPair(truth: truth, answered: $0.key, count: $0.value) } }
            .sorted { ($1.count, $0.truth, $0.answered) < ($0.count, $1.truth, $1.answered) }
        let count = Double(max(truths.count, 1))
        return Result(classifier: kind, accuracy: Double(first) / count, top5Accuracy: Double(topFive) / count,
                      perLabel: perLabel.mapValues { .init(evaluated: $0.evaluated, recall: Double($0.correct) / Double($0.evaluated)) },
                      confusedPairs: Array(pairs.prefix(10)), fitSeconds: fit.seconds, evaluateSeconds: evaluate.seconds)
    }
}
