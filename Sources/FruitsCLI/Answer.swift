import ArgumentParser
import Logging
import Answerer

struct AnswerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Answer every image on fruits.results with the latest published model's classifier.",
        discussion: """
            A member of the group fruits-answerers on fruits.features and fruits.deadletter: run more to answer \
            faster. `fruits reduce` runs one itself unless --no-answers.
            """
    )

    @OptionGroup var service: ServiceOptions

    @Option(help: "The results the reducer publishes models to: s3://bucket/Results/ or a directory.")
    var results: String

    @Flag(help: "Leave the image URIs out of each answer's nearest labelled neighbours.")
    var noNeighbourUris = false

    func run() async throws {
        let logger = Logger(label: "fruits.answer")
        var configuration = AnswerService.Configuration(kafka: try service.kafka())
        configuration.neighbourURIs = !noNeighbourUris
        let answerer = try AnswerService(configuration: configuration, results: try service.storage.store(results), logger: logger)
        try await answerer.checkResults()
        try await service.checkBroker(answerer.checkReachable(timeout:))
        try await service.runServices(answerer, gracePeriod: .seconds(20), logger: logger)
    }
}
