import Common
import Events
import Foundation
import Kafka
import Logging
import Metrics
import ObjectStorage
import Results
import ServiceLifecycle
import Synchronization

/// The reducer: reads every partition of the feature and dead-letter topics
/// (a fixed assignment, not a group: it is one process, restarted by its
/// supervisor, and its offsets live in its checkpoint; a group would only make
/// a restart wait out the dead member's session), drops duplicates
/// by image id, and every `flushRecords` records or `flushInterval` has its
/// `ResultsOwner` write a features Parquet part and an id manifest, then the
/// checkpoint (the commit point), then commits Kafka offsets. At the end the
/// owner solves the PCA and writes the model and the projected features. Its
/// memory holds one flush's records and the ids already written
/// (`WrittenImages`, ~40 bytes each).
public actor ReducerService: Service {
    /// The reducer runs on a thread of its own at nice 10. A model solve or
    /// a flush's Gram update takes seconds: on the cooperative pool (one
    /// thread per core) it would stall every other task of the process, a
    /// `fruits reduce`'s answerer among them, and at normal priority it would
    /// compete with the answerer and the broker for the cores.
    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let configuration: Configuration
    let logger: Logger
    let consumer: KafkaConsumer
    /// The results' writer, on this reducer's thread.
    let owner: ResultsOwner
    private let validation: FeatureEventValidation
    private var written = WrittenImages()
    private let startOffsets: StartOffsets
    private var pending = PendingBatch()
    /// With `expectedImages`: the images this process read and accounted for.
    private var progress: ExpectedImages?
    private let accountedGauge = Atomic<Int>(0)

    /// With `expectedImages`: how many of them this run has read so far,
    /// for a progress display.
    public nonisolated var imagesAccounted: Int { accountedGauge.load(ordering: .relaxed) }
    /// Where each partition's next record is, as read so far, and as the last checkpoint says.
    private var nextOffsets: [TopicPartition: Int64] = [:]
    var committedOffsets: [TopicPartition: Int64] = [:]
    /// The cluster and partition counts this run reads, for the next checkpoint.
    var source: ReducerCheckpoint.KafkaSource?
    private var duplicatesDropped = 0
    private let reducedCounter = Counter(label: "fruits_reduced_images_total")
    private let duplicatesCounter = Counter(label: "fruits_duplicates_dropped_total")
    /// Records read but not yet flushed: what a crash now would make Kafka redeliver.
    private let pendingGauge = Gauge(label: "fruits_reducer_pending_records")

    /// Labelled references the classifier holds (bounded by `maxLabels` x `referencesPerLabel`).
    public var referenceCount: Int { get async { await owner.references.count } }

    public var totals: Totals { get async { await owner.totals(duplicatesDropped: duplicatesDropped) } }

    /// Reads the results' checkpoint: a store that cannot be read fails here, at start.
    public init(configuration: Configuration, store: any ObjectStore, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        validation = FeatureEventValidation(dimension: configuration.dimension)
        let executor = ThreadExecutor(name: "fruits-reducer", nice: 10)
        self.executor = executor
        owner = ResultsOwner(configuration: configuration, store: store, logger: logger, executor: executor)
        self.progress = configuration.expectedImages.map(ExpectedImages.init)
        let reset = configuration.resetOffsets, resume = StartOffsets()
        self.startOffsets = resume
        consumer = try KafkaConsumer(
            configuration: configuration.kafka, groupID: configuration.groupID, subscription: .partitions([]),
            startOffsets: { partition in
                switch reset {
                case .earliest: KafkaConsumer.beginningOffset
                case .latest: KafkaConsumer.endOffset
                case nil: resume[partition]
                }
            })
        try await owner.loadCheckpoint()
        await self.resume()
        LinearAlgebra.limitThreads(to: CPUBudget.current.cpus)
    }

    /// Reads on from where the owner's checkpoint says.
    func resume() async {
        source = await owner.checkpointSource
        committedOffsets = await owner.resumeOffsets
        nextOffsets = committedOffsets
        startOffsets.set(committedOffsets)
    }

    public nonisolated func checkReachable(timeout: Duration) async throws { try await consumer.checkReachable(timeout: timeout) }

    public func run() async throws {
        do { try await reduce() } catch {
            try? await consumer.close()
            throw error
        }
        try? await consumer.close()
    }

    private func reduce() async throws {
        try await assignPartitions(waiting: true)
        written = try await owner.prepare()
        let schedule = configuration.schedule
        let started = ContinuousClock.now
        var lastRecord = ContinuousClock.now
        var lastFlush = ContinuousClock.now
        var lastRefresh = ContinuousClock.now
        var stop: ReducerSchedule.Stop?
        // An empty batch every 200 ms without records: the timed rules below run then too.
        for try await messages in consumer.batches(upTo: ReducerSchedule.recordsPerRead, timeout: .milliseconds(200)) {
            guard !Task.isShuttingDownGracefully else { break }
            if ContinuousClock.now - lastRefresh >= configuration.partitionRefresh {
                try await assignPartitions(waiting: false)
                lastRefresh = .now
            }
            if !messages.isEmpty { lastRecord = .now }
            for message in messages {
                accept(message)
                // Mid-batch too: a flush holds at most `flushRecords`, and commits the offsets of what it holds.
                if schedule.isFull(pending: pending.count) {
                    try await flush()
                    lastFlush = .now
                }
            }
            pendingGauge.record(pending.count)
            accountedGauge.store(progress?.read ?? 0, ordering: .relaxed)
            if schedule.flushIsDue(pending: pending.count, offsetsMoved: nextOffsets != committedOffsets, lastFlush: lastFlush, now: .now) {
                try await flush()
                lastFlush = .now
            }
            try await owner.publishModelIfDue(schedule, started: started)
            if let progress, progress.allRead {
                try await flush()
                lastFlush = .now
                stop = schedule.stopWhenDone(allAccounted: self.progress?.allAccounted == true)
                if stop != nil { logger.info("every image is accounted for", metadata: ["images": "\(progress.expected)"]) }
            }
            if stop == nil, let idle = schedule.stopWhenIdle(lastRecord: lastRecord, now: .now) {
                logger.info("idle, finishing", metadata: ["idle": "\(configuration.exitWhenIdle ?? .zero)"])
                stop = idle
            }
            if stop != nil { break }
        }
        try await flush()
        let finalize = switch stop {
        case .allAccounted(let finalize), .idle(let finalize): finalize
        case nil: configuration.finalizeOnExit
        }
        if finalize { try await owner.finalize() }
    }

    private func accept(_ message: KafkaMessage) {
        nextOffsets[message.topicPartition] = message.offset + 1
        let record = RecordOrigin(topic: message.topic, partition: message.partition, offset: message.offset, value: message.value)
        if message.topic == configuration.topics.deadLetters {
            guard let letter = try? Fruits_V1_DeadLetter(serializedBytes: message.value) else {
                return note(pending.add(DeadLetters.malformed(record, stage: .reduce, why: "not a fruits.v1.DeadLetter")))
            }
            return note(pending.add(letter))
        }
        switch validation.judge(record, stage: .reduce) {
        case .usable(let event, let key): note(pending.add(event, key: key))
        case .refused(let letter):
            // The extractors' dead-letter counter, so FruitsDeadLetterRateHigh sees these reasons too.
            Counter(label: "fruits_images_failed_total", dimensions: [("reason", letter.reason), ("stage", "reduce")]).increment()
            note(pending.add(letter))
        }
    }

    private func note(_ outcome: PendingBatch.Outcome) {
        switch outcome {
        case .duplicate: countDuplicates(1)
        case .held(let newKey): if let newKey { progress?.held(newKey, written: written) }
        }
    }

    private func countDuplicates(_ count: Int) {
        guard count > 0 else { return }
        duplicatesDropped += count
        duplicatesCounter.increment(by: count)
    }

    /// Drops what the results hold already, has the owner commit the rest
    /// (`ResultsOwner.commit`), then commits the offsets to Kafka.
    private func flush() async throws {
        guard nextOffsets != committedOffsets || !pending.isEmpty else { return }
        countDuplicates(pending.dropWritten(written))
        let flushed = try await owner.commit(pending, offsets: nextOffsets, source: source)
        progress?.committed(pending.keys, written: written)
        written.insert(flushed.featureKeys, as: .features)
        written.insert(flushed.letterKeys, as: .deadLetters)
        reducedCounter.increment(by: flushed.featureKeys.count)
        committedOffsets = nextOffsets
        pending = PendingBatch()
        pendingGauge.record(0)
        do { try await consumer.commit(committedOffsets) } catch {
            // The checkpoint, not Kafka, is the source of truth for offsets.
            logger.warning("offset commit failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Where each partition starts when assigned: the checkpoint's offsets, set
/// again if a claim had to read a newer checkpoint.
final class StartOffsets: Sendable {
    private let offsets = Mutex<[TopicPartition: Int64]>([:])

    func set(_ value: [TopicPartition: Int64]) { offsets.withLock { $0 = value } }
    subscript(partition: TopicPartition) -> Int64? { offsets.withLock { $0[partition] } }
}
