import ArgumentParser
import Common
import Logging
import Observability

@main
struct Fruits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fruits",
        abstract: "Turns fruit photos into MobileNetV2 feature vectors.",
        subcommands: [RunCommand.self, IngestCommand.self, ExtractCommand.self, ReduceCommand.self, AnswerCommand.self, ReportCommand.self, Featurize.self, Broker.self, Topics.self, Bench.self]
    )

    /// Logs go to stderr, so stdout stays machine-readable.
    static func main() async {
        NativeBLASKernels.restartIfGeneric()
        MallocArenas.limitToCPUs()
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        ParentWatch.startIfAsked()
        _ = MetricsServer.registry
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
