import ArgumentParser
import Common
import Events
import Foundation
import Ingest
import Kafka
import Logging

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Emit image events: a backfill of a data set, or an upload endpoint for the app.",
        subcommands: [Backfill.self, Serve.self],
        defaultSubcommand: Backfill.self
    )

    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Emit one image event per JPEG below an S3 prefix or a directory (the default).",
            discussion: "Labels are parent folder names. Exits 0 once every event is acknowledged by Kafka."
        )

        @OptionGroup var service: ServiceOptions

        @Option(help: "Topic of the image events.")
        var topic = PipelineTopics().images

        @Argument(help: "s3://bucket/prefix/ or a directory.")
        var input: String

        func run() async throws {
            let store = try service.storage.store(input)
            let producer = try KafkaProducer(configuration: try service.kafka())
            try await service.checkBroker(producer.checkReachable(timeout:))
            let backfill = Ingest.Backfill(store: store, producer: producer, topic: topic)
            let progress = ProgressReporter(total: 0, label: "ingest")
            let (sent, skipped) = try await backfill.sendAll(listed: { progress.expect($0) }, sent: { progress.advance(by: $0) })
            progress.finish()
            try await producer.close()  // waits for the broker to acknowledge what is queued (up to 30 s)
            StandardError.write("ingest: \(sent) image events sent to \(topic) (\(skipped) other files skipped)\n")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept photo uploads over HTTP: POST /v1/images[?label=L][&wait=S] with a bearer token.",
            discussion: """
                Photos are stored under <store>/uploads/ and queued on fruits.images.live. The answer is 200 with the \
                image's result when it is ready within S seconds (at most 10), else 202 {"image_id", "status": "pending"}; \
                GET /v1/images/{id} answers later, from fruits.results. GET /healthz answers 200 while the photo store takes writes, else 503. The contract: GET /openapi.json (schemas/openapi.yaml).
                """
        )

        /// The server's own defaults, so that the command line cannot drift from them.
        private static let defaults = UploadServer.Configuration(token: "")

        @OptionGroup var service: ServiceOptions

        @Option(help: "Port to listen on.")
        var port = Serve.defaults.port

        @Option(help: "Where uploads are stored: s3://bucket/prefix/ or a directory.")
        var store: String

        @Option(help: "Largest accepted photo, in bytes.")
        var maxBytes = Serve.defaults.maxBodyBytes

        @Option(help: "Megabytes of photos held in memory at once (by bytes received, one copy each); more uploads get 503 with Retry-After.")
        var maxBufferedMegabytes = Serve.defaults.maxBufferedBytes >> 20

        @Option(help: "Bytes a second an upload's body must average after its first \(Serve.defaults.bodyTimeout.components.seconds) s; slower connections are closed.")
        var minBodyRate = Serve.defaults.minimumBodyRate

        @Option(help: "Seconds an upload's body may take at most, whatever its rate.")
        var maxBodySeconds = Int(Serve.defaults.maxBodyDuration.components.seconds)

        @Option(help: "Results to show on the status page at GET /: a directory or s3://bucket/Results/.")
        var results: String?

        @Option(help: "Open connections at most; more wait in the listen backlog.")
        var maxConnections = Serve.defaults.maxConnections

        @Option(help: "Uploads whose answers GET /v1/images/{id} keeps (about 1 KiB each); the oldest are forgotten first. Backfill answers are kept apart, at most \(RecentResults.defaultOtherCapacity).")
        var recentResults = RecentResults.defaultCapacity

        func validate() throws {
            guard (1...(1 << 30)).contains(maxBytes) else { throw ValidationError("--max-bytes must be from 1 to \(1 << 30)") }
            guard (1...65_536).contains(maxBufferedMegabytes) else { throw ValidationError("--max-buffered-megabytes must be from 1 to 65536") }
            guard (1...(1 << 30)).contains(minBodyRate) else { throw ValidationError("--min-body-rate must be from 1 to \(1 << 30) bytes a second") }
            guard (1...86_400).contains(maxBodySeconds) else { throw ValidationError("--max-body-seconds must be from 1 to 86400") }
            guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be from 1 to 1000000") }
            guard (1...10_000_000).contains(recentResults) else { throw ValidationError("--recent-results must be from 1 to 10000000") }
            guard (1...65_535).contains(port) else { throw ValidationError("--port must be from 1 to 65535") }
        }

        func run() async throws {
            guard let token = ProcessInfo.processInfo.environment["FRUITS_UPLOAD_TOKEN"], !token.isEmpty else {
                throw ValidationError("set FRUITS_UPLOAD_TOKEN to the bearer token the app sends")
            }
            let logger = Logger(label: "fruits.ingest")
            var producerConfiguration = try service.kafka()
            producerConfiguration.setDefault(KafkaProducer.lowLatency)
            let producer = try KafkaProducer(configuration: producerConfiguration)
            try await service.checkBroker(producer.checkReachable(timeout:))
            var configuration = UploadServer.Configuration(token: token)
            configuration.port = port
            configuration.maxBodyBytes = maxBytes
            configuration.maxBufferedBytes = maxBufferedMegabytes << 20
            configuration.maxConnections = maxConnections
            configuration.minimumBodyRate = minBodyRate
            configuration.maxBodyDuration = .seconds(maxBodySeconds)
            let admin = try KafkaAdmin(configuration: try service.kafka())
            let topic = configuration.topic
            let answers = RecentResults(capacity: recentResults)
            let feed = try ResultsFeed(kafka: try service.kafka(), into: answers, logger: logger)
            let server = UploadServer(
                configuration: configuration, store: try service.storage.store(store), producer: producer, answers: answers,
                statusPage: UploadStatusPage(results: try results.map(service.storage.store), logger: logger) {
                    let live = try await admin.lag(group: PipelineGroups.liveExtractors, topic: topic).values.reduce(0, +)
                    let backfill = try await admin.lag(group: PipelineGroups.extractors, topic: PipelineTopics().images).values.reduce(0, +)
                    return [("uploads waiting for an extractor (consumer lag)", "\(live)"),
                            ("backfill images waiting for an extractor", "\(backfill)")]
                }, logger: logger)
            try await server.checkStore()
            try await service.runServices(server, others: [feed], gracePeriod: .seconds(20), logger: logger)
        }
    }
}
