import Common

/// The Kafka module's own threads for the librdkafka calls that block: a
/// metadata request, an assignment that looks up leaders first, closing a
/// consumer (it leaves its group), flushing a producer, the admin's requests.
/// Each async method of this module that waits for a broker waits on one of
/// them, so its callers neither park Swift's cooperative pool nor hop to a
/// thread by hand. Commits need no thread: librdkafka answers them on its
/// own (`KafkaConsumer.commit`).
enum KafkaThreads {
    /// Sized for waiting, not for CPUs: each call mostly waits for a broker
    /// (up to its timeout when none answers), and a process has a few
    /// clients that may all be closing or looking up metadata at once.
    private static let pool = ThreadPool(threads: 8, name: "fruits-kafka")

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.run(body)
    }

    /// Starts `job` and returns at once.
    static func submit(_ job: @escaping @Sendable () -> Void) {
        pool.submit(job)
    }
}
