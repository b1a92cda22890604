import Foundation
import Kafka
import Parquet
import TestSupport
import Testing

@testable import Reducer
@testable import Results

/// The readers of results meet files they did not write whole (bit rot, a
/// truncated copy, someone else's, a hostile one): each must throw an error
/// that names the file, never trap, never index past an array and never
/// hand BLAS a matrix smaller than the sizes it is told. A trap would end
/// the test process, so every mutant here is "survived"; each error is
/// checked for the file's name.
@Suite("Results readers: hostile checkpoints, models and references give errors naming the file")
struct ResultsReaderFuzzTests {
    static let checkpointFile = "s3://results/_checkpoint/reducer.ckpt"
    static let modelFile = "s3://results/pca/models/000001/model.json"
    static let referencesFile = "s3://results/pca/models/000001/references.parquet"
    static let dimension = 6

    // MARK: Checkpoint

    static func checkpoint() throws -> [UInt8] {
        var checkpoint = ReducerCheckpoint(dimension: dimension)
        checkpoint.accumulator.add(ClassifierTests.clusters(perLabel: 5).map(\.features))
        checkpoint.sequence = 3
        checkpoint.offsets = [TopicPartition(topic: "fruits.features", partition: 0): 42, TopicPartition(topic: "fruits.deadletter", partition: 1): 7]
        checkpoint.deadLetters = 2
        checkpoint.epochs.commit(sequence: 1, by: 9)
        checkpoint.epochs.commit(sequence: 3, by: 11)
        checkpoint.source = .init(clusterID: "cluster", partitions: ["fruits.features": 1, "fruits.deadletter": 2])
        checkpoint.modelVersion = 2
        checkpoint.modelSamples = 10
        return try checkpoint.serialized()
    }

    /// Reads a checkpoint as a reducer would and uses what it read; true if it was refused.
    @discardableResult
    static func readCheckpoint(_ bytes: [UInt8]) -> Bool {
        do {
            var checkpoint = try ReducerCheckpoint(bytes: bytes, file: checkpointFile, dimension: dimension)
            _ = try checkpoint.serialized()
            _ = checkpoint.accumulator.covariance()
            checkpoint.accumulator.add([[Float](repeating: 1, count: dimension)])
            _ = checkpoint.commits(FlushName(sequence: 2, epoch: 9))
            return false
        } catch {
            #expect("\(error)".hasPrefix(checkpointFile + ": "), "\(error)")
            return true
        }
    }

    @Test func theSampleCheckpointReadsBack() throws {
        let checkpoint = try ReducerCheckpoint(bytes: try Self.checkpoint(), file: Self.checkpointFile, dimension: Self.dimension)
        #expect(checkpoint.accumulator.count == 15 && checkpoint.sequence == 3 && checkpoint.modelSamples == 10)
    }

    /// What failed before: a header length with its top bit set (read as a
    /// negative Int, it passed the bounds check and trapped slicing), the
    /// same partition twice (a trap building the offsets), another dimension
    /// (a trap at the next flush's Gram update).
    @Test func knownHostileCheckpointsAreRefusedByName() throws {
        let bytes = try Self.checkpoint()
        var topBit = bytes
        topBit[15] = 0x80
        #expect(Self.readCheckpoint(topBit))
        for (field, value) in [("dimension", "7"), ("dimension", "-1"), ("dimension", "4611686018427387904"), ("count", "-1"),
                               ("modelSamples", "16"), ("sequence", "-3"), ("sequence", "9223372036854775807")] as [(String, String)] {
            #expect(Self.readCheckpoint(try Self.rewritingHeader(bytes) { $0[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed) }),
                    "\(field) = \(value)")
        }
        let doubled = try Self.rewritingHeader(bytes) { header in
            var offsets = header["offsets"] as! [Any]
            offsets.append(offsets[0])
            header["offsets"] = offsets
        }
        #expect(Self.readCheckpoint(doubled))
        var nan = bytes
        for i in 0..<8 { nan[nan.count - 8 + i] = i == 7 ? 0x7F : 0xFF }
        #expect(Self.readCheckpoint(nan))
    }

    /// The checkpoint with its JSON header changed by `change`, the length field kept right.
    static func rewritingHeader(_ bytes: [UInt8], _ change: (inout [String: Any]) throws -> Void) throws -> [UInt8] {
        let length = Int(bytes[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        var header = try JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + length)])) as! [String: Any]
        try change(&header)
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        return Array(bytes[0..<8]) + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * $0)) } + json + bytes[(16 + length)...]
    }

    /// 20,000 byte mutants (1 to 8 bytes, or a 4- or 8-byte extreme, mostly
    /// in the magic, the length and the header) and 5,000 header mutants
    /// (a field, or an element of one, set to an extreme value or a wrong type).
    @Test func mutatedCheckpointsNeverTrap() throws {
        let bytes = try Self.checkpoint()
        let headerEnd = 16 + Int(bytes[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        var generator = SplitMix64(seed: 0xC4EC)
        var refused = 0
        for _ in 0..<20_000 {
            let mutant = Mutation.bytes(bytes, hot: 0..<headerEnd, using: &generator)
            if Self.readCheckpoint(mutant) { refused += 1 }
        }
        for _ in 0..<5_000 {
            let mutant = try Self.rewritingHeader(bytes) { Mutation.json(&$0, using: &generator) }
            if Self.readCheckpoint(mutant) { refused += 1 }
        }
        #expect(refused > 15_000, "\(refused) of 25,000 mutants refused")
    }

    // MARK: Model and references

    /// A published version's two files, as the reducer writes them.
    static func published() throws -> (model: [UInt8], references: [UInt8]) {
        let references = ClassifierTests.clusters(perLabel: 6)
        let classifier = NearestNeighbours(model: try ClassifierTests.model(of: references), references: references)
        var model = classifier.model
        model.classifier = ClassifierSummary(classifier, evaluation: ClassifierEvaluation(of: classifier, modelVersion: 1), perLabel: 6)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rows: [[ParquetValue]] = classifier.keys.indices.map { index in
            [.string(classifier.keys[index].hex), .string(classifier.referenceLabels[index]), .floatList(classifier.projected[index])]
        }
        return (Array(try encoder.encode(model)), try ResultsLayout.encode(rows, schema: ResultsLayout.references))
    }

    static let queries: [[Float]] = [[4.8, 0.1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [6, 6, 6, 6, 6, 6]]

    /// Loads a version as an answerer would and answers with it; true if it was refused.
    @discardableResult
    static func readClassifier(model: [UInt8], references: [UInt8]) -> Bool {
        do {
            let classifier = try NearestNeighbours.published(model: (model, modelFile), references: (references, referencesFile),
                                                             version: 1, dimension: dimension)
            _ = classifier.classify(batch: queries)
            _ = classifier.leaveOneOut(Array(0..<min(classifier.count, 4)))
            _ = Projector(classifier.model).project(rows: queries)
            _ = classifier.model.project(queries[0])
            return false
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix(modelFile + ": ") || text.hasPrefix(referencesFile + ": "), "\(text)")
            return true
        }
    }

    @Test func theSampleVersionLoadsAndAnswers() throws {
        let (model, references) = try Self.published()
        let classifier = try NearestNeighbours.published(model: (model, Self.modelFile), references: (references, Self.referencesFile),
                                                         version: 1, dimension: Self.dimension)
        #expect(classifier.count == 18 && classifier.classify(features: Self.queries[0]).top.first?.label == "Apple")
    }

    /// What failed before: components shorter than the mean (an out-of-bounds
    /// BLAS read), `"neighbours": 0` (a precondition), a model of other
    /// features (a precondition at the first answer); and a references file
    /// that disagrees with its model.json.
    @Test func knownHostileVersionsAreRefusedByName() throws {
        let (model, references) = try Self.published()
        func changing(_ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
            var json = try JSONSerialization.jsonObject(with: Data(model)) as! [String: Any]
            change(&json)
            return [UInt8](try JSONSerialization.data(withJSONObject: json))
        }
        let hostile: [(String, [UInt8])] = [
            ("short components", try changing { json in json["components"] = (json["components"] as! [[Double]]).map { Array($0.prefix(2)) } }),
            ("one component too many", try changing { json in json["k"] = (json["k"] as! Int) + 1 }),
            ("neighbours 0", try changing { json in
                var classifier = json["classifier"] as! [String: Any]
                classifier["neighbours"] = 0
                json["classifier"] = classifier
            }),
            ("neighbours -1", try changing { json in
                var classifier = json["classifier"] as! [String: Any]
                classifier["neighbours"] = -1
                json["classifier"] = classifier
            }),
            ("other features", try changing { json in json["mean"] = [Double](repeating: 0, count: 1280) }),
            ("a variance short", try changing { json in json["explained_variance"] = Array((json["explained_variance"] as! [Double]).dropLast()) }),
        ]
        for (what, bytes) in hostile {
            #expect(Self.readClassifier(model: bytes, references: references), "\(what)")
        }
        let shortColumn = try ResultsLayout.encode([[.string(ClassifierTests.key(1).hex), .string("Apple"), .floatList([])]],
                                                   schema: ResultsLayout.references)
        #expect(Self.readClassifier(model: model, references: shortColumn))
    }

    /// More neighbours than references is a classifier of few images: it loads and answers.
    @Test func moreNeighboursThanReferencesAnswers() throws {
        let (model, references) = try Self.published()
        var json = try JSONSerialization.jsonObject(with: Data(model)) as! [String: Any]
        var classifier = json["classifier"] as! [String: Any]
        classifier["neighbours"] = 1_000_000
        json["classifier"] = classifier
        #expect(!Self.readClassifier(model: [UInt8](try JSONSerialization.data(withJSONObject: json)), references: references))
    }

    /// 10,000 model.json byte mutants, 5,000 structural ones (a field or an
    /// element set to an extreme or a wrong type, an array cut or grown),
    /// and 10,000 references.parquet byte mutants weighted towards its footer.
    @Test func mutatedVersionsNeverTrap() throws {
        let (model, references) = try Self.published()
        var generator = SplitMix64(seed: 0x40DE1)
        for _ in 0..<10_000 {
            Self.readClassifier(model: Mutation.bytes(model, hot: 0..<model.count, using: &generator), references: references)
        }
        let tree = try JSONSerialization.jsonObject(with: Data(model)) as! [String: Any]
        for _ in 0..<5_000 {
            var mutant = tree
            Mutation.json(&mutant, using: &generator)
            Self.readClassifier(model: [UInt8](try JSONSerialization.data(withJSONObject: mutant)), references: references)
        }
        for _ in 0..<10_000 {
            let hot = max(0, references.count - 600)..<references.count
            Self.readClassifier(model: model, references: Mutation.bytes(references, hot: hot, using: &generator))
        }
    }
}

/// Deterministic mutations for the fuzz tests.
enum Mutation {
    static let extremes: [UInt64] = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                     0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF]

    /// 1 to 8 random bytes, or a 4- or 8-byte little-endian extreme, half the
    /// time inside `hot`.
    static func bytes(_ bytes: [UInt8], hot: Range<Int>, using generator: inout SplitMix64) -> [UInt8] {
        var mutant = bytes
        let inHot = Bool.random(using: &generator) && hot.count > 8
        let range = inHot ? hot : 0..<bytes.count
        if Int.random(in: 0..<3, using: &generator) == 0 {
            let width = Bool.random(using: &generator) ? 4 : 8
            let at = Int.random(in: range.lowerBound..<max(range.lowerBound + 1, range.upperBound - width), using: &generator)
            let value = extremes.randomElement(using: &generator)!
            for i in 0..<width where at + i < mutant.count { mutant[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        } else {
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                mutant[Int.random(in: range, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
        }
        return mutant
    }

    static var values: [Any] { [0, 1, -1, 2, 7, 1280, Int.max, Int.min, 4_611_686_018_427_387_904, 1e308, -1e308, 0.5,
                                "", "x", NSNull(), [Any](), [String: Any](), true] }

    /// Sets one leaf of the tree, or cuts or grows one array, at random.
    static func json(_ object: inout [String: Any], using generator: inout SplitMix64) {
        guard let key = object.keys.sorted().randomElement(using: &generator) else { return }
        object[key] = mutate(object[key]!, using: &generator)
    }

    private static func mutate(_ value: Any, using generator: inout SplitMix64) -> Any {
        switch value {
        case var array as [Any] where !array.isEmpty && Int.random(in: 0..<4, using: &generator) != 0:
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: array.removeLast(Int.random(in: 1...array.count, using: &generator))
            case 1: array.append(array.randomElement(using: &generator)!)
            default:
                let index = Int.random(in: 0..<array.count, using: &generator)
                array[index] = mutate(array[index], using: &generator)
            }
            return array
        case var object as [String: Any] where !object.isEmpty && Int.random(in: 0..<4, using: &generator) != 0:
            json(&object, using: &generator)
            return object
        default:
            return values.randomElement(using: &generator)!
        }
    }
}
