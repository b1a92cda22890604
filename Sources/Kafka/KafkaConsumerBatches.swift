extension KafkaConsumer {
    /// Records in batches of up to `count`, each handed over as soon as a
    /// record is there (`poll(upTo:timeout:linger:)`, on the consumer's own
    /// thread; a partial batch waits up to `linger` for more), and an empty
    /// batch when none arrived within `timeout`, so a reader can do timed
    /// work between records. Ends once the consumer is closed or the reading
    /// task is cancelled.
    public func batches(upTo count: Int, timeout: Duration, linger: Duration = .zero) -> Batches {
        Batches(consumer: self, count: count, timeout: timeout, linger: linger)
    }

    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = [KafkaMessage]

        let consumer: KafkaConsumer
        let count: Int
        let timeout: Duration
        let linger: Duration

        public func makeAsyncIterator() -> Iterator { Iterator(batches: self) }

        public struct Iterator: AsyncIteratorProtocol {
            let batches: Batches

            public mutating func next() async throws -> [KafkaMessage]? {
                guard !Task.isCancelled, !batches.consumer.closed.load(ordering: .acquiring) else { return nil }
                return try await batches.consumer.poll(upTo: batches.count, timeout: batches.timeout, linger: batches.linger)
            }
        }
    }
}
