import Foundation
import TestSupport
import Testing

@Suite("A backfill with 30 poison files: one dead letter each, features for every good file", .tags(.integration), .usesFruitsBinary)
struct PoisonCorpusTests {
    @Test func poisonCostsOneDeadLetterEach() async throws {
        let corpus = Tools.temporaryPath("corpus-\(UUID().uuidString.prefix(8))")
        let script = Tools.root.appendingPathComponent("tools/bad_corpus.py").path
        let made = try await Tools.run(Tools.python, [script, "make", corpus])
        try #require(made.status == 0, "\(made.output)")
        let results = corpus + "-results"
        let run = try await Tools.run(Tools.fruits, ["run", "--input", corpus + "/Test", "--output", results, "--pca-k", "8",
                                               "--weights", Tools.weights])
        try #require(run.status == 0, "\(run.output.suffix(2000))")
        #expect(run.output.contains("the results hold 26 with features and 30 dead letters"), "\(run.output.suffix(600))")
        let check = try await Tools.run(Tools.python, [script, "check", corpus, results])
        #expect(check.status == 0, "\(check.output)")
    }
}
