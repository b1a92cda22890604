import ArgumentParser
import Common
import Extractor
import Logging
import ServiceLifecycle

struct ExtractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Join the extractor group: image events in, feature events (or dead letters) out.",
        discussion: "Runs until SIGTERM/SIGINT, then finishes the batch in hand, commits and leaves the group."
    )

    @OptionGroup var service: ServiceOptions
    @OptionGroup var model: ModelOptions

    @Option(help: "Consumer group of the extractors.")
    var group = "fruits-extractors"

    @Option(help: "Longest wait for a partial batch, in milliseconds.")
    var maxWaitMs = 200

    func run() async throws {
        let logger = Logger(label: "fruits.extract")
        var configuration = ExtractionService.Configuration(kafka: try service.kafka())
        configuration.groupID = group
        configuration.batchSize = model.batch
        configuration.maxWait = .milliseconds(maxWaitMs)
        let worker = try InferenceWorker(
            weightsPath: model.weightsPath,
            configuration: .init(batchSize: model.batch, threads: model.threads, limits: .init(maxPixels: model.maxPixels)))
        let s3 = try? service.s3()
        let extraction = try ExtractionService(
            configuration: configuration, worker: worker, fetcher: ObjectFetcher(s3: s3.map { S3Client(configuration: $0) }),
            logger: logger)
        try extraction.checkReachable(timeout: .seconds(service.connectTimeout))
        try await service.runServices(extraction, logger: logger)
    }
}
