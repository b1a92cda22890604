import Events
import Kafka
import Logging
import Metrics
import Results

/// Publishes every image's answer to the results topic, keyed by image id:
/// its PCA coordinates and best labels under the current classifier, or why
/// it failed. The topic is compacted, so its latest record per id is the
/// state any number of upload endpoints serve from.
///
/// Sends run concurrently and are retried until acknowledged; `acknowledged`
/// tells when they are done and whether all were delivered, so a caller
/// commits a record's offset only once its answer is (a crash or a stop
/// before that replays the record and answers again). A value: one task
/// answers with it.
struct ImageAnswers {
    private let producer: KafkaProducer
    private let topic: String
    private let logger: Logger
    private(set) var classifier: AnsweringClassifier?
    private var sends: [Task<Bool, Never>] = []
    private let failedSends = Counter(label: "fruits_answers_failed_total")
    private let neighbourURIs: Bool

    init(producer: KafkaProducer, topic: String, logger: Logger, neighbourURIs: Bool = true) {
        self.producer = producer
        self.topic = topic
        self.logger = logger
        self.neighbourURIs = neighbourURIs
    }

    mutating func use(_ classifier: AnsweringClassifier) { self.classifier = classifier }

    /// Answers `events` in their order, classified together (see `NearestNeighbours.classify(batch:)`).
    mutating func answer(_ events: [Fruits_V1_FeatureEvent]) {
        guard !events.isEmpty else { return }
        let classified = classifier?.answers(batch: events.map(\.features))
        for (index, event) in events.enumerated() {
            var result = Fruits_V1_ImageResult()
            result.imageID = event.imageID
            result.status = .done
            result.label = event.label
            result.source = event.source
            result.ingestedAtMicros = event.ingestedAtMicros
            result.extractedAtMicros = event.extractedAtMicros
            if let classifier, let answer = classified?[index] {
                result.pca = answer.pca
                result.top = answer.top.prefix(5).map { scored in
                    var entry = Fruits_V1_ImageResult.LabelScore()
                    entry.label = scored.label
                    entry.score = scored.score
                    return entry
                }
                result.modelVersion = Int64(classifier.model.version ?? 0)
                result.classifier = classifier.kind.rawValue
                result.neighbours = answer.neighbours.map { near in
                    var neighbour = Fruits_V1_ImageResult.Neighbour()
                    neighbour.imageID = near.key.hex
                    neighbour.label = near.label
                    neighbour.similarity = near.similarity
                    if neighbourURIs { neighbour.uri = near.uri }
                    return neighbour
                }
            }
            send(result)
        }
    }

    mutating func answer(_ letter: Fruits_V1_DeadLetter) {
        guard !letter.imageID.isEmpty else { return }
        var result = Fruits_V1_ImageResult()
        result.imageID = letter.imageID
        result.status = .failed
        result.source = letter.source
        result.reason = letter.reason.isEmpty ? "failed" : letter.reason
        send(result)
    }

    private mutating func send(_ result: Fruits_V1_ImageResult) {
        var result = result
        result.decidedAtMicros = EventIdentity.nowMicros()
        guard let value: [UInt8] = try? result.serializedBytes() else { return }
        let key = Array(result.imageID.utf8)
        sends.append(Task { [producer, topic, logger, failedSends] in
            await Self.deliver(value, key: key, imageID: result.imageID, producer: producer, topic: topic, logger: logger, failures: failedSends)
        })
    }

    /// Sends until the broker acknowledges, backing off up to 30 s between
    /// tries: an answer is never given up while the producer is open, since
    /// its offset must not be committed without it. False once the producer
    /// closed (the process is stopping): that record is answered again by
    /// whoever reads it next.
    private static func deliver(_ value: [UInt8], key: [UInt8], imageID: String, producer: KafkaProducer, topic: String,
                                logger: Logger, failures: Counter) async -> Bool {
        var backoff: Duration = .milliseconds(100)
        while true {
            do {
                try await producer.send(topic: topic, key: key, value: value)
                return true
            } catch let error as KafkaError where error.kind == .closed {
                return false
            } catch {
                failures.increment()
                logger.error("an image's answer could not be published; retrying", metadata: [
                    "image_id": "\(imageID)", "retry_in": "\(backoff)", "error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    /// A task that ends once every answer sent so far is acknowledged, true,
    /// or one of them was given up on, false; later answers are not its concern.
    mutating func acknowledged() -> Task<Bool, Never> {
        let waiting = sends
        sends = []
        return Task {
            var all = true
            for send in waiting where !(await send.value) { all = false }
            return all
        }
    }
}
