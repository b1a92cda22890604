import ArgumentParser
import Benchmarks
import Foundation
import Reducer

struct BenchRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "How long a restarting reducer takes to load the ids of N images it already holds, and the memory they take.",
        discussion: "The last line is machine-readable: RESTART_BENCH {json}."
    )

    @Option(help: "Distinct images the results hold.")
    var images = 1_000_000

    @Option(help: "Images per flush, so per id manifest (the reducer's --flush-records).")
    var flushRecords = 2_000

    @OptionGroup var results: BenchResultsOptions

    func run() async throws {
        let result = try await results.withStore("bench-restart") {
            try await RestartBenchmark.run(images: images, flushRecords: flushRecords, store: $0)
        }
        let growth = max(0, result.peakBytesAfter - result.peakBytesBefore)
        print(String(format: "%d images in %d manifests (%.1f MiB): loaded in %.2f s, peak RSS +%.0f MiB (%.0f bytes per image)",
                     result.images, result.manifests, Double(result.manifestBytes) / 1_048_576, result.seconds,
                     Double(growth) / 1_048_576, Double(growth) / Double(max(1, result.images))))
        let json: [String: Any] = ["images": result.images, "manifests": result.manifests, "manifest_bytes": result.manifestBytes,
                                   "seconds": result.seconds, "peak_rss_growth_bytes": growth]
        print(benchLine("RESTART_BENCH", json))
    }
}
