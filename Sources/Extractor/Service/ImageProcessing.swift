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
    let topics: PipelineTopics
    /// How each lane decodes its photos (see `ExtractionService.Configuration`).
    let uploadDecoding: DecodeOptions
    let backfillDecoding: DecodeOptions
    let logger: Logger
    private let processed = Counter(label: "fruits_images_processed_total")

    init(features: any FeatureSource, fetch: ImageFetch, topics: PipelineTopics, uploadDecoding: DecodeOptions,
         backfillDecoding: DecodeOptions, logger: Logger) {
        self.features = features
        self.fetch = fetch
        self.topics = topics
        self.uploadDecoding = uploadDecoding
        self.backfillDecoding = backfillDecoding
        self.logger = logger
    }

    /// The records a batch produces: feature events and dead letters. Throws
    /// only for the service's faults (`ImageFetch`): the batch stays uncommitted.
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

        let fetched = try await fetchAll(work.map(\.event.uri))
        var decodable: [(record: RecordOrigin, event: Fruits_V1_ImageEvent, jpeg: [UInt8])] = []
        for ((record, event), result) in zip(work, fetched) {
            switch result {
            case .success(let jpeg): decodable.append((record, event, jpeg))
            case .failure(let error):
                failures.append(Self.failed(event, read: record, reason: "unreadable_object", message: "\(error)"))
            }
        }

        let decoding = priority == .interactive ? uploadDecoding : backfillDecoding
        let results = try await features.features(ofJPEGs: decodable.map(\.jpeg), priority: priority, decoding: decoding)
        let extractedAt = EventIdentity.nowMicros()
        var sends: [Output] = []
        for (item, result) in zip(decodable, results) {
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
            case .failure(let error):
                failures.append(Self.failed(item.event, read: item.record, reason: error.reason, message: error.description))
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

    /// Fetches the whole batch at once, every request in flight together,
    /// each retried as `ImageFetch` says: the object's faults become its
    /// dead letter, the service's stop the service with the batch uncommitted.
    private func fetchAll(_ uris: [String]) async throws -> [Result<[UInt8], any Error>] {
        try await withThrowingTaskGroup(of: (Int, Result<[UInt8], any Error>).self) { group in
            for (index, uri) in uris.enumerated() {
                group.addTask { [fetch] in (index, try await fetch.fetch(uri)) }
            }
            var results = [Result<[UInt8], any Error>](repeating: .failure(CancellationError()), count: uris.count)
            for try await (index, result) in group { results[index] = result }
            return results
        }
    }
}
