import ArgumentParser
import Common
import Events
import Extractor
import Foundation
import Ingest
import Kafka
import Logging
import Reducer
import Report

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The whole pipeline in one command: embedded broker, ingest, extractor processes, reducer.",
        discussion: "Exits 0 once every image has features or a dead letter, after writing the PCA. Prints a summary."
    )

    @OptionGroup var service: ServiceOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var reducer: ReducerOptions
    @OptionGroup var memory: MemoryOptions

    @Option(help: "Images: a directory or s3://bucket/prefix/.")
    var input: String

    @Option(help: "Results: a directory or s3://bucket/Results/.")
    var output: String

    @Option(help: "Extractor processes; each reads a fixed share of the partitions with one inference worker per CPU of its share.")
    var extractors = 1

    @Option(help: "Partitions of each topic of the embedded broker.")
    var partitions = 6

    func validate() throws {
        guard extractors >= 1, extractors <= partitions else {
            throw ValidationError("--extractors must be between 1 and --partitions (\(partitions))")
        }
        try model.validateForService()
    }

    func run() async throws {
        let logger = Logger(label: "fruits.run")
        let started = ContinuousClock.now
        _ = try WeightFile(path: model.weightsPath)  // fail here, not in every worker
        let inputStore = try service.storage.store(input)
        let outputStore = try service.storage.store(output)

        let cluster = try EmbeddedKafkaCluster()
        // Never destroyed: the broker ends with the process, as the extractors do.
        // Destroying librdkafka 2.0.2's mock cluster waited 1 s in one exit of six.
        _ = Unmanaged.passRetained(cluster)
        for topic in PipelineTopics().all { try cluster.createTopic(topic, partitions: partitions) }
        var kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        try kafka.apply(overrides: service.environmentKafkaProperties + service.kafkaProperty)

        let workers = try (0..<extractors).map { try spawnExtractor(index: $0, brokers: cluster.bootstrapServers) }
        defer { stop(workers) }

        let producer = try KafkaProducer(configuration: kafka)
        try await service.checkBroker(producer.checkReachable(timeout:))  // metadata first: sends then start at once
        let backfill = Backfill(store: inputStore, producer: producer, topic: PipelineTopics().images)
        let (events, skipped) = try await backfill.events()
        let ingestProgress = ProgressReporter(total: events.count, label: "ingest")
        try await backfill.send(events) { ingestProgress.advance(by: $0) }
        ingestProgress.finish()
        try await producer.close()  // waits for the broker to acknowledge what is queued (up to 30 s)
        logger.info("ingested", metadata: ["images": "\(events.count)", "skipped": "\(skipped)"])

        var configuration = ReducerService.Configuration(kafka: kafka)
        try reducer.apply(to: &configuration)
        configuration.expectedImages = Set(events.map(\.imageID)).count
        configuration.resetOffsets = .earliest  // a new embedded broker every run
        configuration.modelEvery = nil  // it finalizes within the minute anyway
        configuration.kafka.setDefault(KafkaConsumer.lowLatencyFetch)  // the run ends when the last features arrive
        let reduce = try await ReducerService(configuration: configuration, store: outputStore, logger: Logger(label: "fruits.reduce"))
        let progress = ProgressReporter(total: configuration.expectedImages ?? 0, label: "features or dead letter")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await reduce.run() }
            group.addTask { try await Self.watch(workers) }
            group.addTask {
                while !Task.isCancelled {
                    progress.update(done: reduce.imagesAccounted)
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            try await group.next()
            group.cancelAll()
        }
        progress.update(done: reduce.imagesAccounted)
        progress.finish()
        let seconds = (ContinuousClock.now - started).seconds
        let page = ReportPage(summary: try await ResultsSummary.load(from: outputStore), title: "fruits run: \(input)")
        try await outputStore.put(ReportPage.fileName, Array(page.html.utf8), contentType: "text/html; charset=utf-8")
        print(RunSummary(images: events.count, reducer: await reduce.totals, seconds: seconds, output: output, extractors: extractors,
                         report: outputStore.location.uri(of: ReportPage.fileName)).text)
    }

    /// A child `fruits extract` on the embedded broker, inheriting stderr. The
    /// children split the partitions between them rather than forming a group:
    /// this run owns them all, and a group would only add join rounds.
    private func spawnExtractor(index: Int, brokers: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        let share = (0..<partitions).filter { $0 % extractors == index }.map(String.init).joined(separator: ",")
        var arguments = ["extract", "--brokers", brokers, "--weights", URL(fileURLWithPath: model.weightsPath).path,
                         "--batch", "\(model.batch)", "--partitions", share,
                         "--workers", "\(max(1, CPUBudget.current.cpus / extractors))", "--low-latency-backfill"]
        if let threads = model.threads { arguments += ["--threads", "\(threads)"] }
        arguments += memory.arguments
        if let endpoint = service.storage.s3Endpoint { arguments += ["--s3-endpoint", endpoint] }
        process.arguments = arguments
        // -X settings may hold secrets (SASL passwords): the environment, unlike
        // argv, is not readable by other users of the machine.
        var environment = ProcessInfo.processInfo.environment
        environment["FRUITS_KAFKA_PROPERTIES"] = (service.environmentKafkaProperties + service.kafkaProperty).joined(separator: "\n")
        environment[ParentWatch.variable] = "\(getpid())"
        process.environment = environment
        try process.run()
        return process
    }

    /// Fails as soon as an extractor process dies: without it the run would wait forever.
    private static func watch(_ workers: [Process]) async throws {
        while !Task.isCancelled {
            if let dead = workers.first(where: { !$0.isRunning }) {
                throw RunError(message: "an extractor process exited with status \(dead.terminationStatus); its log is above")
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// The broker is this process's and ends with it, so an extractor has
    /// nothing left worth committing: a graceful stop would only wait out its
    /// last poll (0.5 s).
    private func stop(_ workers: [Process]) {
        for worker in workers where worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
        for worker in workers { worker.waitUntilExit() }
    }
}

struct RunSummary {
    let images: Int
    let reducer: ReducerService.Totals
    let seconds: Double
    let output: String
    let extractors: Int
    let report: String

    var text: String {
        var lines = [
            "images      \(images) ingested; the results hold \(reducer.features) with features and \(reducer.deadLetters) dead letters",
            String(format: "time        %.1f s end to end, %.1f images/s with %d extractor processes", seconds, Double(images) / seconds, extractors),
        ]
        if let model = reducer.model {
            lines.append(String(format: "pca         k = %d, explained variance %.4f", model.k, model.explainedVarianceRatio.reduce(0, +)))
        }
        lines.append("results     \(output)")
        lines.append("report      \(report)")
        return lines.joined(separator: "\n")
    }
}

extension CommandLine {
    /// This executable, for starting workers of the same build.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}

struct RunError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
