import ArgumentParser
import Benchmarks
import Foundation

struct BenchReduce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reduce",
        abstract: "Feature events/s through the reducer (embedded broker, synthetic events) and peak RSS.",
        discussion: """
            The producer stays at most --window events ahead of the reducer, so the embedded broker's \
            ~5 MiB per partition never drops an event. The last line is machine-readable: REDUCE_BENCH {json}.
            """
    )

    @Option(help: "Feature events to reduce (distinct images).")
    var events = ReduceBenchmark().events

    @Option(help: "Features per event.")
    var dimension = ReduceBenchmark().dimension

    @Option(help: "Partitions of the features topic.")
    var partitions = ReduceBenchmark().partitions

    @Option(help: "Events the producer may be ahead of the reducer.")
    var window = ReduceBenchmark().window

    @OptionGroup var results: BenchResultsOptions

    @Flag(help: "Also solve the PCA and project every part at the end (timed separately).")
    var finalize = false

    @Flag(help: "Send every event as an upload with a label of its own (a flood of free-text labels): the references must not grow.")
    var labelFlood = false

    func run() async throws {
        var benchmark = ReduceBenchmark()
        benchmark.labelFlood = labelFlood
        benchmark.events = events
        benchmark.dimension = dimension
        benchmark.partitions = partitions
        benchmark.window = window
        benchmark.finalize = finalize
        let result = try await results.withStore("bench-reduce") { try await benchmark.run(store: $0) }
        print(String(format: "%d events of %d features: %.0f events/s (%.1f s%@), peak RSS %.0f MiB, %d references",
                     events, dimension, result.eventsPerSecond, result.seconds, finalize ? ", PCA and projection included" : "",
                     Double(result.peakResidentBytes) / 1_048_576, result.references))
        let json: [String: Any] = ["events": events, "dimension": dimension, "events_per_second": result.eventsPerSecond,
                                   "seconds": result.seconds, "finalize": finalize, "peak_rss_bytes": result.peakResidentBytes,
                                   "label_flood": labelFlood, "references": result.references]
        print(benchLine("REDUCE_BENCH", json))
    }
}
