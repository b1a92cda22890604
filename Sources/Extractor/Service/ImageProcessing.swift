import Events
import Logging
import Metrics
import ObjectStorage

/// What turns photos into features: the `InferencePool` (decode, resize,
/// MobileNetV2), or a stand-in in tests.
protocol FeatureSource: Sendable {
    var modelVersion: String { get }
    func features(ofJPEGs jpegs: [[UInt8]], priority: InferencePool.Priority,
                  decoding: DecodeOptions?) async throws -> [Result<[Float], ImageError>]
}

extension InferencePool: FeatureSource {}

/// What the image events of a batch become, knowing no broker: each
/// photo is fetched as `ImageFetch` says, decoded and inferred, and turns
/// into a feature event, or into one dead letter that says why. The
/// service reads the records, sends what this returns and commits.
struct ImageProcessing: Sendable {
    /// A record to send: the features or dead-letter topic, keyed by image id.
    struct Output: Sendable {
        let topic: String
        let key: [UInt8]
        let value: [UInt8]
    }

    let features: any FeatureSource
    let fetch: ImageFetch
    /// Bounds the bytes both lanes hold fetched but not yet decoded, uploads
    /// served first; nil: unbounded.
    let fetchBudget: FetchBudget?
    let topics: PipelineTopics
    /// How each lane decodes its photos (see `ExtractionService.Configuration`).
    let uploadDecoding: DecodeOptions
    let backfillDecoding: DecodeOptions
    let logger: Logger
    private let processed = Counter(label: "fruits_images_processed_total")

    init(features: any FeatureSource, fetch: ImageFetch, fetchBudget: FetchBudget? = nil, topics: PipelineTopics,
         uploadDecoding: DecodeOptions, backfillDecoding: DecodeOptions, logger: Logger) {
        self.features = features
        self.fetch = fetch
        self.fetchBudget = fetchBudget
        self.topics = topics
        self.uploadDecoding = uploadDecoding
        self.backfillDecoding = backfillDecoding
        self.logger = logger
    }

    /// The records a batch produces: feature events and dead letters. Throws
    /// for the service's faults (`ImageFetch`), a fetch budget wait that timed
    /// out, or cancellation: the batch stays uncommitted.
    func process(_ batch: [RecordOrigin], priority: InferencePool.Priority) async throws -> [Output] {
        var failures: [Fruits_V1_DeadLetter] = []
        var work: [(record: RecordOrigin, event: Fruits_V1_ImageEvent)] = []
        for record in batch {
            if let event = try? Fruits_V1_ImageEvent(serializedBytes: record.value), !event.uri.isEmpty {
                work.append((record, event))
            } else {
                failures.append(DeadLetters.malformed(record, stage: .extract, why: "not a fruits.v1.ImageEvent with a uri"))
            }
        }

        let decoding = priority == .interactive ? uploadDecoding : backfillDecoding
        let extraction = BatchExtraction(fetch: fetch, budget: fetchBudget, maxObjectBytes: fetch.fetcher.maxBytes, features: features)
        let results = try await extraction.features(of: work.map(\.event.uri), priority: priority, decoding: decoding)
        let extractedAt = EventIdentity.nowMicros()
        var sends: [Output] = []
        for (item, result) in zip(work, results) {
            switch result {
            case .success(let features):
                var output = Fruits_V1_FeatureEvent()
                output.imageID = item.event.imageID
                output.uri = item.event.uri
                output.label = item.event.label
                output.source = item.event.source
                output.ingestedAtMicros = item.event.ingestedAtMicros
                output.extractedAtMicros = extractedAt
                output.modelVersion = self.features.modelVersion
                output.features = features
                output.decode = decoding.description
                sends.append(Output(topic: topics.features, key: Array(item.event.imageID.utf8), value: try output.serializedBytes()))
            case .failure(let failure):
                failures.append(Self.failed(item.event, read: item.record, reason: failure.reason, message: failure.detail))
            }
        }
        processed.increment(by: results.count { (try? $0.get()) != nil })
        for failure in failures {
            Counter(label: "fruits_images_failed_total", dimensions: [("reason", failure.reason)]).increment()
            logger.warning("dead letter", metadata: ["uri": "\(failure.uri)", "reason": "\(failure.reason)", "detail": "\(failure.message)"])
            sends.append(Output(topic: topics.deadLetters, key: Array(failure.imageID.utf8), value: try failure.serializedBytes()))
        }
        return sends
    }

    private static func failed(_ event: Fruits_V1_ImageEvent, read record: RecordOrigin, reason: String,
                               message: String) -> Fruits_V1_DeadLetter {
        DeadLetters.failed(imageID: event.imageID, uri: event.uri, source: event.source, read: record,
                           stage: .extract, reason: reason, message: message)
    }
}
