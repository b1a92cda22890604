import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput and memory (use a release build).",
        subcommands: [BenchExtract.self, BenchReduce.self, BenchRestart.self, BenchClassifiers.self]
    )
}
