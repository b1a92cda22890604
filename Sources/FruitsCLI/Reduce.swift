import Answerer
import ArgumentParser
import Events
import Foundation
import Kafka
import Logging
import Reducer
import Results
import ServiceLifecycle

/// Options of the PCA and of the reducer's flushing, shared with `fruits run`.
struct ReducerOptions: ParsableArguments {
    /// The reducer's own defaults, so that the command line cannot drift from them.
    private static let defaults = ReducerService.Configuration(kafka: KafkaConfiguration(bootstrapServers: ""))

    @Option(help: "Keep this many principal components (default: \(ReducerOptions.defaultPCA)).")
    var pcaK: Int?

    @Option(help: "Keep the fewest components explaining this fraction of the variance (e.g. 0.95).")
    var pcaVariance: Double?

    @Option(help: "Flush a Parquet part every this many records.")
    var flushRecords = ReducerOptions.defaults.flushRecords

    @Option(help: "Flush at least every this many seconds.")
    var flushSeconds = Int(ReducerOptions.defaults.flushInterval.components.seconds)

    @Option(help: "Publish the PCA model while running at most every this many seconds (0: only at the end).")
    var modelEvery = Int(ReducerOptions.defaults.modelEvery?.components.seconds ?? 0)

    @Option(help: "Publish the first model once this many images are in (and \(ReducerOptions.defaults.modelFirstAfter.components.seconds) s have passed).")
    var modelMinImages = ReducerOptions.defaults.modelMinImages

    @Option(help: "Nearest references that vote on an image's label.")
    var neighbours = ReducerOptions.defaults.neighbours

    @Option(help: "Labelled images per label the classifier compares against (those with the smallest ids).")
    var referencesPerLabel = ReducerOptions.defaults.referencesPerLabel

    @Option(help: "Labels the classifier may learn at most, from backfills and --labels-file; references take at most this x --references-per-label x 5 KiB.")
    var maxLabels = ReducerOptions.defaults.maxLabels

    @Option(help: "A file of labels the classifier may learn from uploads too, one per line (backfill folders add theirs).")
    var labelsFile: String?

    @Option(help: "The classifier answers come from: auto (the best on held-out references), knn-pca, knn-full or softmax.")
    var classifier = "auto"

    @Option(help: "Log and count a drop of the published classifier's held-out accuracy by more than this from the previous version (0.02: 2 points).")
    var qualityDrop = ReducerOptions.defaults.classifier.qualityDropThreshold

    /// The operator's labels, normalized as uploads' are; a line that is no
    /// label is an error naming its number.
    static func labels(in path: String, max: Int) throws -> Set<String> {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("--labels-file \(path) cannot be read as UTF-8 text")
        }
        var labels: Set<String> = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            do { labels.insert(try ImageLabel.normalized(trimmed)) } catch {
                throw ValidationError("--labels-file \(path), line \(number + 1): \(error)")
            }
        }
        guard labels.count <= max else { throw ValidationError("--labels-file \(path) names \(labels.count) labels, more than --max-labels \(max)") }
        return labels
    }

    private static var defaultPCA: String {
        switch defaults.pca {
        case .components(let k): "\(k)"
        case .variance(let fraction): "as many as explain \(fraction) of the variance"
        }
    }

    func validate() throws {
        if pcaK != nil && pcaVariance != nil { throw ValidationError("give --pca-k or --pca-variance, not both") }
        guard neighbours >= 1 else { throw ValidationError("--neighbours must be at least 1") }
        guard (1...100_000).contains(referencesPerLabel) else { throw ValidationError("--references-per-label must be from 1 to 100000") }
        guard (1...100_000).contains(maxLabels) else { throw ValidationError("--max-labels must be from 1 to 100000") }
        if let pcaVariance, !(0 < pcaVariance && pcaVariance <= 1) { throw ValidationError("--pca-variance must be in (0, 1]") }
        guard ClassifierChoice(argument: classifier) != nil else {
            throw ValidationError("--classifier must be one of \(ClassifierChoice.accepted), not \(classifier)")
        }
        guard (0...1).contains(qualityDrop) else { throw ValidationError("--quality-drop must be from 0 to 1 (a fraction of accuracy)") }
    }

    func apply(to configuration: inout ReducerService.Configuration) throws {
        configuration.neighbours = neighbours
        configuration.referencesPerLabel = referencesPerLabel
        configuration.maxLabels = maxLabels
        if let choice = ClassifierChoice(argument: classifier) { configuration.classifier.choice = choice }
        configuration.classifier.qualityDropThreshold = qualityDrop
        if let labelsFile { configuration.trustedLabels = try Self.labels(in: labelsFile, max: maxLabels) }
        configuration.modelEvery = modelEvery > 0 ? .seconds(modelEvery) : nil
        configuration.modelMinImages = modelMinImages
        configuration.flushRecords = flushRecords
        configuration.flushInterval = .seconds(flushSeconds)
        if let pcaK { configuration.pca = .components(pcaK) }
        if let pcaVariance { configuration.pca = .variance(pcaVariance) }
    }
}

struct ReduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reduce",
        abstract: "Collect feature events into Parquet parts and an exact PCA, written to --output.",
        discussion: """
            Resumes from <output>/_checkpoint/reducer.ckpt. With --exit-when-idle it flushes, solves the PCA and \
            exits 0 after that many seconds without records; with --finalize it also solves the PCA on SIGTERM.
            """
    )

    @OptionGroup var service: ServiceOptions
    @OptionGroup var reducer: ReducerOptions

    @Option(help: "s3://bucket/Results/ or a directory.")
    var output: String

    @Option(help: "Finalize and exit after this many seconds without records while owning partitions.")
    var exitWhenIdle: Int?

    @Option(help: "Finalize and exit once this many distinct images have features or a dead letter (a backfill of known size).")
    var expectImages: Int?

    @Flag(help: "Solve and write the PCA when stopped by a signal too.")
    var finalize = false

    @Flag(inversion: .prefixedNo, help: "Also answer every image on fruits.results (coordinates, best labels), as `fruits answer` does.")
    var answers = true

    @Flag(help: "Leave the image URIs out of each answer's nearest labelled neighbours.")
    var noNeighbourUris = false

    @Option(help: "Ignore the checkpoint's offsets and read from the topics' start (earliest) or only new records (latest): for results whose checkpoint came from another cluster.")
    var resetOffsets: ReducerService.OffsetReset?

    @Flag(help: "Go on when the topics' retention deleted records the checkpoint had not read yet (the reducer refuses by default, naming them).")
    var acceptRetentionLoss = false

    @Option(help: .hidden)  // crash tests: `after-id-manifests:2` (see CrashPoint)
    var crashAt: CrashPoint?

    func run() async throws {
        let logger = Logger(label: "fruits.reduce")
        var configuration = ReducerService.Configuration(kafka: try service.kafka())
        try reducer.apply(to: &configuration)
        configuration.exitWhenIdle = exitWhenIdle.map { .seconds($0) }
        configuration.expectedImages = expectImages
        configuration.finalizeOnExit = finalize
        configuration.resetOffsets = resetOffsets
        configuration.acceptRetentionLoss = acceptRetentionLoss
        configuration.crashPoint = crashAt
        let store = try service.storage.store(output)
        let reduce = try await ReducerService(configuration: configuration, store: store, logger: logger)
        try await service.checkBroker(reduce.checkReachable(timeout:))
        var answering = AnswerService.Configuration(kafka: try service.kafka())
        answering.neighbourURIs = !noNeighbourUris
        let answerer = try answers ? AnswerService(configuration: answering, results: store, logger: Logger(label: "fruits.answer")) : nil
        try await service.runServices(reduce, others: answerer.map { [$0] } ?? [], gracePeriod: .seconds(100), logger: logger)
    }
}

extension ReducerService.OffsetReset: ExpressibleByArgument {}

extension CrashPoint: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
