import ArgumentParser

@main
struct Fruits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fruits",
        abstract: "Turns fruit photos into MobileNetV2 feature vectors.",
        subcommands: [Featurize.self, Broker.self, Bench.self]
    )
}
