import ArgumentParser
import Common
import Events
import Extractor
import Logging
import ObjectStorage
import ServiceLifecycle

struct ExtractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Join the extractor group: image events in, feature events (or dead letters) out.",
        discussion: "Runs until SIGTERM/SIGINT, then finishes the batch in hand, commits and leaves the group."
    )

    @OptionGroup var service: ServiceOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var memory: MemoryOptions

    @Option(help: "Consumer group of the extractors.")
    var group = PipelineGroups.extractors

    @Option(help: "Longest wait for a partial batch, in milliseconds (0: take what is queued).")
    var maxWaitMs = 0

    @Option(help: "Inference workers, each single-threaded by default (default: one per CPU this process may use: cgroup quota, affinity mask, cores).")
    var workers: Int?

    @Option(help: "Read only these partitions of the images topic (comma-separated) instead of joining the group.")
    var partitions: String?

    @Option(help: "The uploads lane's decode (exact or reduced); --decode and --orientation set the backfill lane's, --reduced-min-side both lanes'. Default: reduced.")
    var uploadDecode: DecodeOptions.Scale?

    @Option(help: "The uploads lane's EXIF orientation (stored or exif). Default: exif.")
    var uploadOrientation: DecodeOptions.Orientation?

    @Flag(help: .hidden)  // `fruits run`'s extractors: see ExtractionService.Configuration.lowLatencyBackfill
    var lowLatencyBackfill = false

    /// `--partitions` as numbers; nil when absent or not a list of partition numbers.
    private var partitionList: [Int32]? {
        guard let numbers = partitions?.split(separator: ",").map({ Int32($0) }), numbers.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            return nil
        }
        return numbers.compactMap { $0 }
    }

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        try model.validateForService()
        if partitions != nil, partitionList == nil {
            throw ValidationError("--partitions takes partition numbers separated by commas, e.g. 0,2,4")
        }
    }

    func run() async throws {
        let logger = Logger(label: "fruits.extract")
        var configuration = ExtractionService.Configuration(kafka: try service.kafka())
        configuration.groupID = group
        configuration.maxWait = .milliseconds(maxWaitMs)
        configuration.partitions = partitionList
        configuration.lowLatencyBackfill = lowLatencyBackfill
        configuration.backfillDecoding = model.decoding(over: configuration.backfillDecoding)
        if let uploadDecode { configuration.uploadDecoding.scale = uploadDecode }
        if let uploadOrientation { configuration.uploadDecoding.orientation = uploadOrientation }
        if let side = model.reducedMinSide { configuration.uploadDecoding.reducedMinimumSide = side }
        let budget = CPUBudget.current
        let memoryBudget = try memory.budget(maxObjectBytes: ObjectFetcher.defaultMaxBytes)
        configuration.fetchMemory = memoryBudget.fetchBytes
        var poolConfiguration = InferencePool.Configuration(
            workers: workers ?? budget.cpus,
            extractor: .init(batchSize: model.batch, threads: model.threads ?? 1, limits: .init(maxPixels: model.maxPixels)))
        poolConfiguration.decodeMemory = memoryBudget.decodeBytes
        let pool = try InferencePool(weightsPath: model.weightsPath, configuration: poolConfiguration)
        logger.info("inference workers", metadata: [
            "workers": "\(pool.configuration.workers)", "threads_each": "\(model.threads ?? 1)",
            "cpu_budget": "\(budget.cpus) (\(budget.source))",
            "decode_memory": "\(ByteCount.describe(memoryBudget.decodeBytes))", "fetch_memory": "\(ByteCount.describe(memoryBudget.fetchBytes))",
            "memory_limit": "\(ByteCount.describe(memoryBudget.limit.bytes)) (\(memoryBudget.limit.source))"])
        // An S3 endpoint named means s3:// images are expected: fail now, not at
        // the first image, if S3 is unusable or no credentials can be had.
        let s3: Result<S3Client, any Error>
        do {
            let configuration = try service.storage.s3()
            if service.storage.s3EndpointDescription != nil { _ = try await configuration.credentials.credentials() }
            s3 = .success(S3Client(configuration: configuration))
        } catch {
            s3 = .failure(error)
        }
        if case .failure(let error) = s3, let endpoint = service.storage.s3EndpointDescription {
            throw RunError(message: "S3 is configured (\(endpoint)) but unusable: \(error)")
        }
        if case .failure(let error) = s3 {
            logger.notice("no S3 client; an s3:// image will stop this extractor", metadata: ["reason": "\(error)"])
        }
        let extraction = try ExtractionService(configuration: configuration, pool: pool, fetcher: ObjectFetcher(s3: s3), logger: logger)
        try await service.checkBroker(extraction.checkReachable(timeout:))
        try await service.runServices(extraction, gracePeriod: .seconds(20), logger: logger)
    }
}
