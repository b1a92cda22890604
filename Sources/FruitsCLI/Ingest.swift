import ArgumentParser
import Common
import Foundation
import Ingest

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Emit one image event per JPEG below an S3 prefix or a directory.",
        discussion: "Labels are parent folder names. Exits 0 once every event is acknowledged by Kafka."
    )

    @OptionGroup var service: ServiceOptions

    @Option(help: "Topic of the image events.")
    var topic = PipelineTopics().images

    @Argument(help: "s3://bucket/prefix/ or a directory.")
    var input: String

    func run() async throws {
        let store = try service.store(input)
        let producer = try KafkaProducer(configuration: try service.kafka())
        try producer.checkReachable(timeout: .seconds(service.connectTimeout))
        let backfill = Backfill(store: store, producer: producer, topic: topic)
        let (events, skipped) = try backfill.events()
        let progress = ProgressReporter(total: events.count, label: "ingest")
        try await backfill.send(events) { progress.advance(by: $0) }
        progress.finish()
        try producer.close()
        StandardError.write("ingest: \(events.count) image events sent to \(topic) (\(skipped) other files skipped)\n")
    }
}
