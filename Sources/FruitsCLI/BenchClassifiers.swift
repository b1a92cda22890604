import ArgumentParser
import Foundation
import Reducer

struct BenchClassifiers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifiers",
        abstract: "Every classifier kind on a results folder's latest model and references: held-out accuracy, top-5, fit time, answer latency.",
        discussion: "The last line is machine-readable: CLASSIFIERS_BENCH {json}."
    )

    @Option(help: "A finished results folder (fruits run --output): s3://bucket/Results/ or a directory.")
    var results: String

    @Option(help: "Held-out images answered one at a time for the latency.")
    var answers = 300

    @OptionGroup var storage: StorageOptions

    func validate() throws {
        guard (1...100_000).contains(answers) else { throw ValidationError("--answers must be from 1 to 100000") }
    }

    func run() async throws {
        let result = try await ClassifierBenchmark.run(results: try storage.store(results), answers: answers)
        print("\(result.method); \(result.training) train, \(result.evaluated) evaluated")
        print("classifier  accuracy  top-5   fit s   answer p50 ms  p95 ms  memory MiB")
        for row in result.rows {
            print(row.classifier.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "  %.4f    %.4f  %6.2f  %8.2f      %6.2f  %6.1f", row.accuracy, row.top5Accuracy,
                         row.fitSeconds, row.answerP50Milliseconds, row.answerP95Milliseconds, Double(row.modelBytes) / 1_048_576))
        }
        print("best: \(result.best); the latest version published: \(result.published ?? "knn-pca (before the comparison)")")
        let json: [String: Any] = [
            "best": result.best, "published": result.published ?? "", "training": result.training, "evaluated": result.evaluated,
            "rows": result.rows.map { ["classifier": $0.classifier, "accuracy": $0.accuracy, "top5_accuracy": $0.top5Accuracy, "fit_seconds": $0.fitSeconds,
                                        "answer_p50_ms": $0.answerP50Milliseconds, "answer_p95_ms": $0.answerP95Milliseconds, "model_bytes": $0.modelBytes] },
        ]
        print(benchLine("CLASSIFIERS_BENCH", json))
    }
}
