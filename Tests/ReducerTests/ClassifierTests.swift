import Events
import Foundation
import TestSupport
import Testing

@testable import Reducer
@testable import Results

@Suite("Classifier: reference set, nearest neighbours, evaluation")
struct ClassifierTests {
    static func key(_ value: UInt64) -> ImageKey { ImageKey(high: value, low: 0) }

    /// Three well separated clusters in 6 dimensions, one per label.
    static func clusters(perLabel: Int, seed: UInt64 = 7) -> [ReferenceSet.Reference] {
        var generator = SplitMix64(seed: seed)
        let centres: [(String, [Float])] = [("Apple", [5, 0, 0, 0, 0, 0]), ("Kiwi", [0, 5, 0, 0, 0, 0]), ("Plum", [0, 0, 5, 0, 0, 0])]
        var references: [ReferenceSet.Reference] = []
        for (index, (label, centre)) in centres.enumerated() {
            for item in 0..<perLabel {
                let point = centre.map { $0 + Float.random(in: -0.5...0.5, using: &generator) }
                references.append(.init(key: key(UInt64(index * 1_000 + item + 1)), label: label, features: point))
            }
        }
        return references
    }

    static func model(of references: [ReferenceSet.Reference], k: Int = 3) throws -> PCAModel {
        var accumulator = PCAAccumulator(dimension: references[0].features.count)
        accumulator.add(references.map(\.features))
        var model = try PCAModel(accumulator, dimension: .components(k))
        model.version = 1
        return model
    }

    @Test func theReferenceSetKeepsTheSmallestIdsPerLabelWhateverTheOrder() {
        let offers: [(ImageKey, String)] = (1...50).map { index in
            let key = Self.key(UInt64(index * 7919 % 101))
            return (key, index % 2 == 0 ? "Kiwi" : "Apple")
        }
        var forward = ReferenceSet(perLabel: 5), backward = ReferenceSet(perLabel: 5)
        for (key, label) in offers { forward.offer(key: key, label: label, features: [1]) }
        for (key, label) in offers.reversed() { backward.offer(key: key, label: label, features: [1]) }
        #expect(forward.all.map(\.key) == backward.all.map(\.key))
        #expect(forward.count == 10)
        for label in ["Apple", "Kiwi"] {
            let expected = offers.filter { $0.1 == label }.map { $0.0 }.sorted().prefix(5)
            #expect(forward.byLabel[label]!.map(\.key) == Array(expected))
        }
        let unlabelled = forward.offer(key: Self.key(0), label: "", features: [1])
        #expect(!unlabelled, "an unlabelled image is never a reference")
        let held = forward.byLabel["Kiwi"]![0].key
        let again = forward.offer(key: held, label: "Kiwi", features: [1])
        #expect(!again, "nor one held already")
    }

    @Test func votesAreSimilarityWeightedAndScoresSumToOne() throws {
        let references = Self.clusters(perLabel: 20)
        let classifier = NearestNeighbours(model: try Self.model(of: references), references: references)
        let (pca, top) = classifier.classify(features: [4.6, 0.3, 0.1, 0, 0, 0])
        #expect(pca.count == 3)
        #expect(top.first?.label == "Apple")
        #expect(abs(top.map(\.score).reduce(0, +) - 1) < 1e-5)
        #expect(top.count <= 5)
        #expect(zip(top, top.dropFirst()).allSatisfy { $0.score >= $1.score })
        // Between two clusters the votes split, each label weighted by its neighbours' similarity.
        let between = classifier.classify(features: [2.5, 2.5, 0, 0, 0, 0]).top
        #expect(Set(between.map(\.label)).isSubset(of: ["Apple", "Kiwi"]))
    }

    @Test func aBatchIsAnsweredAsEachImageAlone() throws {
        let references = Self.clusters(perLabel: 20)
        let classifier = NearestNeighbours(model: try Self.model(of: references), references: references)
        // 600 queries: more than two blocks of the batched product, the last one partial.
        let queries = Self.clusters(perLabel: 200, seed: 99)
        let batch = classifier.classify(batch: queries.map(\.features))
        #expect(batch.count == queries.count)
        for (query, answer) in zip(queries, batch) {
            let alone = classifier.classify(features: query.features)
            #expect(answer.top.first?.label == query.label)
            #expect(answer.top.map(\.label) == alone.top.map(\.label))
            #expect(zip(answer.top, alone.top).allSatisfy { abs($0.score - $1.score) < 1e-5 })
            #expect(zip(answer.pca, alone.pca).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        #expect(classifier.classify(batch: []).isEmpty)
    }

    @Test func leaveOneOutIsPerfectOnSeparatedClustersAndHonestOnMixedOnes() throws {
        let references = Self.clusters(perLabel: 15)
        let classifier = NearestNeighbours(model: try Self.model(of: references), references: references)
        let evaluation = ClassifierEvaluation(of: classifier, modelVersion: 1)
        #expect(evaluation.evaluated == 45)
        #expect(evaluation.accuracy == 1)
        #expect(evaluation.perLabel["Kiwi"]?.recall == 1)

        // Labels drawn at random over the same points: no better than a guess, give or take.
        var generator = SplitMix64(seed: 3)
        let shuffled = references.map { ReferenceSet.Reference(key: $0.key, label: ["Apple", "Kiwi", "Plum"].randomElement(using: &generator)!,
                                                                features: $0.features) }
        let noise = ClassifierEvaluation(of: NearestNeighbours(model: try Self.model(of: shuffled), references: shuffled), modelVersion: 1)
        #expect(noise.accuracy < 0.7, "\(noise.accuracy)")
        #expect(noise.top5Accuracy >= noise.accuracy)
    }

    @Test func theEvaluationSampleIsBoundedAndStable() throws {
        let references = Self.clusters(perLabel: 30)
        let classifier = NearestNeighbours(model: try Self.model(of: references), references: references)
        let first = ClassifierEvaluation(of: classifier, modelVersion: 1, limit: 40)
        let again = ClassifierEvaluation(of: classifier, modelVersion: 1, limit: 40)
        #expect(first.evaluated == 40)
        #expect(first.accuracy == again.accuracy)
    }
}

extension ClassifierTests {
    /// What a restarted reducer rebuilds from the committed `_references/`
    /// parts is the set the flushes built; an uncommitted part does not count.
    @Test func theReferenceSetIsRebuiltFromCommittedPartsOnly() async throws {
        let store = try WrittenImagesTests.store()
        let all = Self.clusters(perLabel: 12)
        var live = ReferenceSet(perLabel: 5)
        var checkpoint = ReducerCheckpoint(dimension: 6)
        for (sequence, chunk) in stride(from: 0, to: all.count, by: 9).map({ Array(all[$0..<min($0 + 9, all.count)]) }).enumerated() {
            let joined = chunk.filter { live.offer(key: $0.key, label: $0.label, features: $0.features) }
            if let file = ReferenceSet.file(of: joined, flush: FlushName(sequence: sequence + 1, epoch: 7)) { try await store.put(file) }
            checkpoint.sequence = sequence + 1
            checkpoint.epochs.commit(sequence: sequence + 1, by: 7)
        }
        let stray = ReferenceSet.Reference(key: Self.key(0), label: "Apple", features: [9, 9, 9, 9, 9, 9])
        try await store.put(try #require(ReferenceSet.file(of: [stray], flush: FlushName(sequence: checkpoint.sequence + 1, epoch: 8))))

        let loaded = try await ReferenceSet.load(from: store, committedBy: checkpoint, empty: ReferenceSet(perLabel: 5), dimension: 6)
        #expect(loaded.all.map(\.key) == live.all.map(\.key))
        #expect(loaded.all.map(\.features) == live.all.map(\.features))
        #expect(!loaded.all.contains { $0.key == stray.key })
    }

    /// A published version read back (model.json + references.parquet)
    /// answers exactly like the classifier that wrote it.
    @Test func aPublishedClassifierAnswersLikeTheOneThatWroteIt() throws {
        let references = Self.clusters(perLabel: 10)
        let written = NearestNeighbours(model: try Self.model(of: references), references: references)
        let read = NearestNeighbours(model: written.model, keys: written.keys, labels: written.referenceLabels,
                                     projected: written.projected)
        for query in [[4.8, 0.1, 0, 0, 0, 0], [0.2, 0.1, 5.1, 0, 0, 0], [2.5, 2.4, 0.3, 0, 0, 0]] as [[Float]] {
            #expect(written.classify(features: query).top == read.classify(features: query).top)
        }
        #expect(Projector(written.model).project(rows: [references[3].features])[0]
                    .elementsEqual(written.model.project(references[3].features)) { abs($0 - $1) < 1e-5 })
    }
}

@Suite("Classifier: whose labels it learns")
struct LabelPolicyTests {
    static func key(_ value: Int) -> ImageKey { ImageKey(high: UInt64(value), low: 0) }

    /// 100,000 uploads with 100,000 new labels: none becomes a reference, the
    /// vocabulary is the backfill's, and the set's memory stays within its
    /// documented cap (maxLabels x perLabel references).
    @Test func aFloodOfUploadLabelsChangesNothing() {
        var set = ReferenceSet(perLabel: 4, maxLabels: 8)
        for (index, label) in ["Apple", "Kiwi", "Plum"].enumerated() {
            let taken = set.offer(key: Self.key(index), label: label, features: [1], trusted: true)
            #expect(taken)
        }
        let vocabulary = set.vocabulary
        var taken = 0
        for index in 0..<100_000 where set.offer(key: Self.key(1_000 + index), label: "spam \(index)", features: [1], trusted: false) {
            taken += 1
        }
        #expect(taken == 0)
        #expect(set.vocabulary == vocabulary && set.count == 3)
        let known = set.offer(key: Self.key(99), label: "Kiwi", features: [1], trusted: false)
        #expect(known, "an upload may join a label the classifier knows")
    }

    /// Trusted sources too stop at `maxLabels`: a backfill of a million
    /// folders cannot grow the references past the cap.
    @Test func trustedLabelsStopAtTheCap() {
        var set = ReferenceSet(perLabel: 2, maxLabels: 5, trusted: ["Operator"])
        for index in 0..<1_000 { set.offer(key: Self.key(index), label: "folder \(index % 100)", features: [1]) }
        #expect(set.vocabulary.count == 5 && set.vocabulary.contains("Operator"))
        #expect(set.count <= set.capacity && set.capacity == 10)
        let operators = set.offer(key: Self.key(5_000), label: "Operator", features: [1], trusted: false)
        #expect(operators, "the operator's labels take uploads")
    }

    /// A restart rebuilds under the same cap while loading: parts holding
    /// more labels than it allows are not all held first.
    @Test func loadingHoldsTheCap() async throws {
        let store = try WrittenImagesTests.store()
        var checkpoint = ReducerCheckpoint(dimension: 2)
        for sequence in 1...4 {
            let references = (0..<50).map { ReferenceSet.Reference(key: Self.key(sequence * 100 + $0), label: "label \(sequence)-\($0)", features: [1, 2]) }
            try await store.put(try #require(ReferenceSet.file(of: references, flush: FlushName(sequence: sequence, epoch: 3))))
            checkpoint.sequence = sequence
            checkpoint.epochs.commit(sequence: sequence, by: 3)
        }
        let loaded = try await ReferenceSet.load(from: store, committedBy: checkpoint, empty: ReferenceSet(perLabel: 3, maxLabels: 20), dimension: 2)
        #expect(loaded.vocabulary.count == 20 && loaded.count == 20)
    }
}
