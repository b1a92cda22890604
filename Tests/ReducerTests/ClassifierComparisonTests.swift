import Events
import Foundation
import TestSupport
import Testing

@testable import Reducer
@testable import Results

@Suite("Classifiers compared: held-out split, softmax head, the best published")
struct ClassifierComparisonTests {
    @Test func theSplitIsStratifiedRepeatableAndDisjoint() {
        let labels = (0..<103).map { ["Apple", "Kiwi", "Plum"][$0 % 3] } + ["Lonely"]
        let split = HeldOutSplit(labels: labels)
        #expect(Set(split.training).isDisjoint(with: split.heldOut))
        #expect((split.training + split.heldOut).sorted() == Array(labels.indices))
        for label in ["Apple", "Kiwi", "Plum"] {
            let all = labels.indices.filter { labels[$0] == label }.count
            let held = split.heldOut.filter { labels[$0] == label }.count
            #expect(held == Int((Double(all) * 0.2).rounded()), "\(label): \(held) of \(all) held out")
        }
        #expect(!split.heldOut.contains(103), "a label with one reference only trains")
        #expect(HeldOutSplit(labels: labels).heldOut == split.heldOut)
        #expect(HeldOutSplit(labels: labels, seed: 29).heldOut != split.heldOut)
        #expect(HeldOutSplit(labels: ["A", "A"]).heldOut.count == 1, "a label of 2 holds one out")
    }

    /// Three labels that a linear boundary separates and a nearest-neighbour
    /// vote in PCA space confuses: a shared large shift along one feature
    /// that dominates the distances, with the labels told apart by small ones.
    static func linearlySeparable(perLabel: Int, seed: UInt64 = 11) -> [ReferenceSet.Reference] {
        var generator = SplitMix64(seed: seed)
        return (0..<3).flatMap { label in
            (0..<perLabel).map { item in
                var features = (0..<8).map { _ in Float.random(in: 0...1, using: &generator) }
                features[0] = Float.random(in: 0...20, using: &generator)  // noise that dominates kNN distances
                features[1 + label] += 1.2
                return ReferenceSet.Reference(key: ImageKey(high: UInt64(label * 1_000 + item + 1), low: 0),
                                              label: ["Apple", "Kiwi", "Plum"][label], features: features)
            }
        }
    }

    @Test func theSoftmaxHeadLearnsWhatIsLinearAndIsDeterministic() throws {
        let training = Self.linearlySeparable(perLabel: 60), test = Self.linearlySeparable(perLabel: 30, seed: 12)
        let head = SoftmaxClassifier.fit(features: training.map(\.features), labels: training.map(\.label))
        let again = SoftmaxClassifier.fit(features: training.map(\.features), labels: training.map(\.label))
        #expect(head.weights == again.weights && head.bias == again.bias)
        let probabilities = head.probabilities(batch: test.map(\.features))
        for row in probabilities { #expect(abs(row.reduce(0, +) - 1) < 1e-4) }
        let answers = head.classify(batch: test.map(\.features))
        let accuracy = Double(zip(answers, test).filter { $0.0.first?.label == $0.1.label }.count) / Double(test.count)
        #expect(accuracy > 0.85, "softmax accuracy \(accuracy)")
        #expect(answers.allSatisfy { $0.count == 3 && $0[0].score >= $0[1].score })
    }

    @Test func everyKindIsMeasuredOnTheSameSplitAndTheBestIsPublishedUnlessPinned() throws {
        let references = Self.linearlySeparable(perLabel: 50)
        let model = try ClassifierTests.model(of: references, k: 2)
        let (comparison, softmax) = ClassifierComparison.run(model: model, references: references, neighbours: 5, options: ClassifierOptions())
        #expect(comparison.results.map(\.classifier) == ClassifierKind.allCases)
        #expect(comparison.evaluated == 30 && comparison.training == 120)
        let accuracies = Dictionary(uniqueKeysWithValues: comparison.results.map { ($0.classifier, $0.accuracy) })
        #expect(accuracies[comparison.published] == accuracies.values.max())
        #expect(accuracies[.softmax]! > 0.85 && accuracies[.softmax]! > accuracies[.knnPCA]! + 0.2,
                "a linear boundary under a dominating noise feature: \(accuracies)")
        #expect(softmax != nil && !comparison.pinned)
        let softmaxResult = try #require(comparison.results.last)
        #expect(softmaxResult.top5Accuracy == 1, "3 labels are always among a head's 5 most probable")
        for result in comparison.results {
            #expect(result.perLabel.values.reduce(0) { $0 + $1.evaluated } == 30)
            #expect(result.confusedPairs.reduce(0) { $0 + $1.count } == 30 - Int((result.accuracy * 30).rounded()))
            #expect(result.top5Accuracy >= result.accuracy && result.top5Accuracy <= 1)
        }
        var pinned = ClassifierOptions()
        pinned.choice = .pinned(.knnPCA)
        let kept = ClassifierComparison.run(model: model, references: references, neighbours: 5, options: pinned).comparison
        #expect(kept.published == .knnPCA && kept.pinned && kept.results.count == 3)
    }

    @Test func theBestIsTheMostAccurateThenTheBestTopFiveThenTheCheaper() {
        func result(_ kind: ClassifierKind, _ accuracy: Double, _ top5: Double) -> ClassifierComparison.Result {
            .init(classifier: kind, accuracy: accuracy, top5Accuracy: top5, perLabel: [:], confusedPairs: [], fitSeconds: 0, evaluateSeconds: 0)
        }
        #expect(ClassifierComparison.best(of: [result(.knnPCA, 0.7, 0.9), result(.knnFull, 0.8, 0.8), result(.softmax, 0.75, 1)]) == .knnFull)
        #expect(ClassifierComparison.best(of: [result(.knnPCA, 0.8, 0.9), result(.knnFull, 0.8, 0.95), result(.softmax, 0.8, 0.9)]) == .knnFull)
        #expect(ClassifierComparison.best(of: [result(.knnPCA, 0.8, 0.9), result(.knnFull, 0.8, 0.9), result(.softmax, 0.8, 0.9)]) == .knnPCA)
        #expect(ClassifierComparison.best(of: []) == nil)
    }

    @Test func aPublishedHeadReadsBackAndADamagedOneIsRefusedNamingTheFile() throws {
        let references = Self.linearlySeparable(perLabel: 20)
        let head = SoftmaxClassifier.fit(features: references.map(\.features), labels: references.map(\.label), fitting: .init(l2: 1e-3, iterations: 20))
        let bytes = try head.file(version: 3).contents()
        #expect(try head.file(version: 3).key == "pca/models/000003/softmax.parquet")
        let read = try SoftmaxClassifier.published(bytes: bytes, file: "s3://b/softmax.parquet", dimension: 8)
        #expect(read.labels == head.labels && read.weights == head.weights && read.bias == head.bias)
        #expect(throws: UnreadableFile.self) { try SoftmaxClassifier.published(bytes: bytes, file: "s3://b/softmax.parquet", dimension: 9) }
        do {
            _ = try SoftmaxClassifier.published(bytes: bytes, file: "s3://b/softmax.parquet", dimension: 9)
        } catch {
            #expect("\(error)".hasPrefix("s3://b/softmax.parquet: row 0"))
        }
        let nonFinite = try ResultsLayout.encode([[.string("Apple"), .floatList(Array(repeating: .nan, count: 9))]], schema: ResultsLayout.softmaxHead)
        #expect(throws: UnreadableFile.self) { try SoftmaxClassifier.published(bytes: nonFinite, file: "f", dimension: 8) }
        let twice = try ResultsLayout.encode([[.string("A"), .floatList(Array(repeating: 0, count: 9))], [.string("A"), .floatList(Array(repeating: 0, count: 9))]],
                                             schema: ResultsLayout.softmaxHead)
        #expect(throws: UnreadableFile.self) { try SoftmaxClassifier.published(bytes: twice, file: "f", dimension: 8) }
    }

    /// 5,000 byte mutants of a softmax.parquet, half in its footer: each is
    /// a head of the right shape or an error naming the file, never a trap.
    @Test func mutatedHeadsNeverTrap() throws {
        let references = Self.linearlySeparable(perLabel: 10)
        let bytes = try SoftmaxClassifier.fit(features: references.map(\.features), labels: references.map(\.label),
                                              fitting: .init(l2: 1e-3, iterations: 5)).file(version: 1).contents()
        var generator = SplitMix64(seed: 0x50F7)
        for _ in 0..<5_000 {
            let mutant = Mutation.bytes(bytes, hot: max(0, bytes.count - 400)..<bytes.count, using: &generator)
            do {
                let head = try SoftmaxClassifier.published(bytes: mutant, file: "s3://r/softmax.parquet", dimension: 8)
                #expect(head.weights.count == head.labels.count * 8 && head.bias.count == head.labels.count)
            } catch {
                #expect("\(error)".contains("softmax.parquet"), "\(error)")
            }
        }
    }

    @Test func aDropBeyondTheThresholdIsFlaggedAndOnlyThen() throws {
        func evaluation(version: Int, accuracy: Double) throws -> ClassifierEvaluation {
            let references = ClassifierTests.clusters(perLabel: 5)
            var evaluation = ClassifierEvaluation(of: NearestNeighbours(model: try ClassifierTests.model(of: references), references: references),
                                                  modelVersion: version)
            evaluation.comparison = comparison(accuracy)
            return evaluation
        }
        func comparison(_ accuracy: Double) -> ClassifierComparison {
            ClassifierComparison(method: "m", training: 10, evaluated: 5,
                                 results: [.init(classifier: .softmax, accuracy: accuracy, top5Accuracy: 1, perLabel: [:], confusedPairs: [],
                                                 fitSeconds: 0, evaluateSeconds: 0)], published: .softmax, pinned: false)
        }
        let previous = try evaluation(version: 4, accuracy: 0.80)
        let small = try #require(QualityChange(version: comparison(0.79), previous: previous, threshold: 0.02))
        #expect(!small.dropped && small.previousVersion == 4)
        #expect(QualityChange(version: comparison(0.77), previous: previous, threshold: 0.02)?.dropped == true)
        #expect(QualityChange(version: comparison(0.90), previous: previous, threshold: 0.02)?.dropped == false)
        #expect(QualityChange(version: comparison(0.5), previous: nil, threshold: 0.02) == nil, "a first version has nothing to compare with")
        // Round trip through evaluation.json, as the next version reads it.
        let decoded = try JSONDecoder().decode(ClassifierEvaluation.self, from: JSONEncoder().encode(previous))
        #expect(decoded.comparison?.publishedResult?.accuracy == 0.80)
    }
}
