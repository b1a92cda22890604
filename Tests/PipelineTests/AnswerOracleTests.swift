import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Parquet
import TestSupport
import Testing

@testable import Answerer
@testable import Reducer
@testable import Results

/// Answers with their neighbours, recomputed by numpy (`tools/check_answers.py`)
/// from the published model files, for each classifier a version can publish.
@Suite("Answers explain themselves: numpy recomputes them, neighbours included", .serialized, .tags(.integration))
struct AnswerOracleTests {
    static let labels = ["Apple", "Kiwi", "Plum", "Pear"]
    static let dimension = 16

    /// A results folder reduced for real from 4 labels x 30 images, the version's classifier `pinned`.
    static func results(pinned: ClassifierKind) async throws -> (store: LocalObjectStore, path: String, cluster: EmbeddedKafkaCluster) {
        let cluster = try EmbeddedKafkaCluster()
        for topic in PipelineTopics().all { try cluster.createTopic(topic, partitions: 1) }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        var generator = SplitMix64(seed: 17)
        for (labelIndex, label) in labels.enumerated() {
            for n in 0..<30 {
                var event = Fruits_V1_FeatureEvent()
                event.imageID = String(format: "%032x", labelIndex * 1000 + n + 1)
                event.uri = "file:///photos/\(label)/\(n).jpg"
                event.label = label
                event.features = (0..<dimension).map { Float($0 % labels.count == labelIndex ? 2 : 1) + Float.random(in: 0...1.5, using: &generator) }
                _ = try await producer.send(topic: PipelineTopics().features, key: nil, value: try event.serializedBytes())
            }
        }
        let path = Tools.temporaryPath("oracle-\(pinned.rawValue)-\(UUID().uuidString.prefix(8))")
        let store = try LocalObjectStore(root: path)
        var configuration = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.expectedImages = 30 * labels.count
        configuration.dimension = dimension
        configuration.pca = .components(4)
        configuration.classifier.choice = .pinned(pinned)
        try await ReducerService(configuration: configuration, store: store, logger: Logger(label: "test")).run()
        return (store, path, cluster)
    }

    /// What `GET /v1/images/{id}` returns for an answer (the JSON the oracle reads).
    static func json(_ answer: AnsweringClassifier.Answer, id: String, classifier: AnsweringClassifier) -> [String: Any] {
        [
            "image_id": id, "status": "done", "model_version": classifier.model.version ?? 0, "pca": answer.pca.map(Double.init),
            "classifier": classifier.kind.rawValue,
            "prediction": ["label": answer.top[0].label, "score": Double(answer.top[0].score),
                           "top": answer.top.prefix(5).map { ["label": $0.label, "score": Double($0.score)] }],
            "neighbours": answer.neighbours.map { ["image_id": $0.key.hex, "label": $0.label, "similarity": Double($0.similarity), "uri": $0.uri] },
        ]
    }

    static func oracle(_ answers: [[String: Any]], results: String) async throws -> (status: Int32, output: String) {
        let file = results + "-answers-\(UUID().uuidString.prefix(8)).json"
        try JSONSerialization.data(withJSONObject: answers).write(to: URL(fileURLWithPath: file))
        let run = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/check_answers.py").path, "--results", results, "--answers", file])
        return (run.status, run.output)
    }

    @Test(.timeLimit(.minutes(4)), arguments: ClassifierKind.allCases)
    func numpyRecomputesEachAnswerAndItsNeighbours(_ kind: ClassifierKind) async throws {
        let (store, path, _) = try await Self.results(pinned: kind)
        let classifier = try await AnsweringClassifier.load(version: 1, from: store, dimension: Self.dimension)
        #expect(classifier.kind == kind)
        // A sample: every 7th image of the results, each answered as an upload of it would be.
        let ids = (0..<Self.labels.count).flatMap { label in stride(from: 1, through: 30, by: 7).map { String(format: "%032x", label * 1000 + $0) } }
        let features = try await Self.features(of: Set(ids), in: store)
        let answers = classifier.answers(batch: ids.map { features[$0]! })
        #expect(answers.allSatisfy { $0.neighbours.count == 5 && $0.neighbours.allSatisfy { $0.uri.hasPrefix("file:///photos/") } })
        let bodies = zip(ids, answers).map { Self.json($1, id: $0, classifier: classifier) }
        let verdict = try await Self.oracle(bodies, results: path)
        #expect(verdict.status == 0, "\(verdict.output)")
        #expect(verdict.output.contains("ok: \(ids.count) answers"), "\(verdict.output)")

        // The oracle can fail: a neighbour that is not the nearest is caught.
        var tampered = bodies
        var neighbours = try #require(tampered[0]["neighbours"] as? [[String: Any]])
        neighbours.swapAt(0, 4)
        tampered[0]["neighbours"] = neighbours
        let caught = try await Self.oracle(tampered, results: path)
        #expect(caught.status != 0 && caught.output.contains("neighbours"), "\(caught.output)")
    }

    static func features(of ids: Set<String>, in store: LocalObjectStore) async throws -> [String: [Float]] {
        var found: [String: [Float]] = [:]
        for part in try await store.list(prefix: "features/") where part.key.hasSuffix(".parquet") {
            let reader = try ParquetReader(bytes: try await store.get(part.key))
            for (id, vector) in zip(try reader.strings("image_id"), try reader.floatLists("features")) {
                if let id, ids.contains(id), let vector { found[id] = vector }
            }
        }
        return found
    }

    /// The answer service itself: every image of the results answered by the
    /// published head with its 5 neighbours; their URIs only without `--no-neighbour-uris`.
    @Test(.timeLimit(.minutes(3)))
    func theAnswerServicePublishesNeighboursAndLeavesURIsOutWhenAsked() async throws {
        let (store, _, cluster) = try await Self.results(pinned: .softmax)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let images = 30 * Self.labels.count
        var consumed = 0
        for shareURIs in [false, true] {
            var configuration = AnswerService.Configuration(kafka: kafka)
            configuration.dimension = Self.dimension
            configuration.groupID = "answerers-\(shareURIs)"
            configuration.neighbourURIs = shareURIs
            let answerer = try AnswerService(configuration: configuration, results: store, logger: Logger(label: "test"))
            let running = Task { try await answerer.run() }
            defer { running.cancel() }
            let reader = try KafkaConsumer(configuration: kafka, groupID: "reader-\(shareURIs)", subscription: .group(topics: [PipelineTopics().results]))
            var answers: [Fruits_V1_ImageResult] = []
            while answers.count < consumed + images {
                answers += try await reader.poll(upTo: 100, timeout: .milliseconds(200)).map { try Fruits_V1_ImageResult(serializedBytes: $0.value) }
            }
            try await reader.close()
            let mine = answers.suffix(images)
            consumed += images
            #expect(mine.allSatisfy { $0.status == .done && $0.modelVersion == 1 && $0.classifier == "softmax" && $0.neighbours.count == 5 })
            #expect(mine.allSatisfy { $0.neighbours.allSatisfy { $0.uri.isEmpty != shareURIs && !$0.label.isEmpty && $0.imageID.count == 32 } },
                    "URIs shared: \(shareURIs)")
        }
    }
}
