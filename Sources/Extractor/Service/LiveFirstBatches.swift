import Kafka

/// The extractor's records: uploads whenever any are waiting, else a backfill
/// batch. While the backfill is busy (or may be: after uploads) the upload
/// topic is only peeked at; while it is idle, the wait is mostly on the upload
/// topic, so an upload waits at most the short backfill read, and a stream of
/// uploads never starves the backfill. Without an upload consumer it is the
/// backfill's batches alone. An empty batch marks a timeout, so the reader can
/// do timed work; the sequence ends once the reading task is cancelled.
struct LiveFirstBatches: AsyncSequence, Sendable {
    typealias Element = (batch: [KafkaMessage], source: KafkaConsumer)

    let backfill: KafkaConsumer
    let live: KafkaConsumer?
    let recordsPerBatch: Int
    /// How long a partial backfill batch waits for more records.
    let linger: Duration

    func makeAsyncIterator() -> Iterator { Iterator(sequence: self) }

    struct Iterator: AsyncIteratorProtocol {
        let sequence: LiveFirstBatches
        /// The last backfill read found nothing: waiting on uploads costs the backfill nothing.
        var backfillIdle = true

        mutating func next() async throws -> Element? {
            guard !Task.isCancelled else { return nil }
            let backfill = sequence.backfill
            guard let live = sequence.live else {
                return (try await backfill.poll(upTo: sequence.recordsPerBatch, timeout: .milliseconds(500), linger: sequence.linger), backfill)
            }
            let uploads = try await live.poll(upTo: sequence.recordsPerBatch, timeout: backfillIdle ? .milliseconds(250) : .zero)
            guard uploads.isEmpty else {
                backfillIdle = false
                return (uploads, live)
            }
            let batch = try await backfill.poll(upTo: sequence.recordsPerBatch, timeout: .milliseconds(20), linger: sequence.linger)
            backfillIdle = batch.isEmpty
            return (batch, backfill)
        }
    }
}
