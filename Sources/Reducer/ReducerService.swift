import Common
import Events
import Foundation
import Kafka
import Logging
import Metrics
import ObjectStorage
import Parquet
import ServiceLifecycle
import Synchronization

/// The reducer: reads every partition of the feature and dead-letter topics
/// (a fixed assignment, not a group: it is one process, restarted by its
/// supervisor, and its offsets live in its checkpoint; a group would only make
/// a restart wait out the dead member's session), drops duplicates
/// by image id, and every `flushRecords` records or `flushInterval` writes a
/// features Parquet part and an id manifest, then its checkpoint (the commit
/// point), then commits Kafka offsets. At the end it solves the PCA and
/// writes the model and the projected features. Its memory holds one flush's
/// records and the ids already written (`WrittenImages`, ~40 bytes each).
///
/// One writer per results, the newest: a reducer claims the results at start
/// by replacing the checkpoint conditionally, and every later checkpoint is
/// a conditional replace of the one it wrote before. A reducer that another
/// has since claimed (a rolling update, a second start by mistake) finds its
/// next commit refused, stops with `Fenced`, and its files, named by its
/// epoch, never count and never overwrite the new owner's.
public actor ReducerService: Service {
    public struct Configuration: Sendable {
        public var kafka: KafkaConfiguration
        public var topics = PipelineTopics()
        public var groupID = PipelineGroups.reducer
        public var flushRecords = 2_000
        public var flushInterval: Duration = .seconds(30)
        /// How often the topics' partitions are looked up again (new partitions,
        /// a dead-letter topic created late).
        public var partitionRefresh: Duration = .seconds(30)
        /// Finalize and stop after this long without records (counted once the
        /// partitions are assigned, so waiting for a topic is not idleness).
        public var exitWhenIdle: Duration?
        /// Finalize and stop once this many distinct images read by this
        /// process are accounted for: written now, or found already written
        /// (a backfill of known size, possibly into existing results). The ids
        /// are kept to count them, so this is for finite runs.
        public var expectedImages: Int?
        public var finalizeOnExit = false
        /// Whether reaching `expectedImages` (or `exitWhenIdle`) also solves
        /// the PCA and projects the parts; off only to time the reduce alone.
        public var finalizeWhenDone = true
        /// Start from the topics' beginning or end rather than the
        /// checkpoint's offsets: for a cluster that is not the one the
        /// checkpoint saw (`fruits run` starts a new embedded broker each time).
        /// nil: use the checkpoint's offsets, and refuse to start if they
        /// belong to another cluster or to a topic with fewer partitions.
        public var resetOffsets: OffsetReset?
        /// Go on when retention deleted records the checkpoint had not read
        /// yet (`RetentionLoss`); they are logged and counted either way.
        public var acceptRetentionLoss = false
        public var pca: PCAModel.Dimension = .components(64)
        /// A model is published while the reducer runs: first once it holds
        /// `modelMinImages` images and has run `modelFirstAfter`, whichever
        /// comes later, then at most every `modelEvery` when images arrived.
        /// nil: only at the end (a finite run that finalizes anyway).
        public var modelEvery: Duration? = .seconds(60)
        public var modelMinImages = 1_000
        public var modelFirstAfter: Duration = .seconds(60)
        /// The classifier published with each model: this many nearest
        /// references vote, from at most `referencesPerLabel` per label.
        public var neighbours = 5
        public var referencesPerLabel = 200
        public var classifier = ClassifierOptions()
        /// The classifier's vocabulary: labels a backfill brings, up to
        /// `maxLabels`, and the operator's `trustedLabels`; an upload's label
        /// outside it never becomes a reference (`ReferenceSet`). The
        /// references' memory is at most maxLabels x referencesPerLabel x
        /// dimension x 4 bytes (500 MiB with these defaults).
        public var maxLabels = 512
        public var trustedLabels: Set<String> = []
        public var dimension = 1280
        /// Fault injection for the crash tests: die here, as a killed pod dies.
        public var crashPoint: CrashPoint?

        public init(kafka: KafkaConfiguration) { self.kafka = kafka }
    }

    /// What the results hold, over every run that fed this checkpoint.
    public struct Totals: Sendable {
        public var features = 0
        public var deadLetters = 0
        public var duplicatesDropped = 0
        public var model: PCAModel?
    }

    /// The reducer runs on a thread of its own at nice 10. A model solve or
    /// a flush's Gram update takes seconds: on the cooperative pool (one
    /// thread per core) it would stall every other task of the process, a
    /// `fruits reduce`'s answerer among them, and at normal priority it would
    /// compete with the answerer and the broker for the cores. Its blocking
    /// librdkafka calls (metadata, commits) wait there too.
    private let executor = ThreadExecutor(name: "fruits-reducer", nice: 10)
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let configuration: Configuration
    private let schedule: ReducerSchedule
    private let store: any ObjectStore
    private let logger: Logger
    private let consumer: KafkaConsumer
    private var state: ReducerCheckpoint
    /// The checkpoint's version as this reducer last read or wrote it: the
    /// condition of its next commit.
    private var checkpointVersion: ObjectVersion?
    private var written = WrittenImages()
    private let startOffsets: StartOffsets
    private var pending = PendingBatch()
    /// With `expectedImages`: the images this process read and accounted for.
    private var progress: ExpectedImages?
    private let accountedGauge = Atomic<Int>(0)

    /// With `expectedImages`: how many of them this run has read so far,
    /// for a progress display.
    public nonisolated var imagesAccounted: Int { accountedGauge.load(ordering: .relaxed) }
    private var nextOffsets: [TopicPartition: Int64] = [:]
    private let startedAt = Date()
    /// This process run, in the checkpoint's epoch history once it commits.
    private let epoch = UInt64.random(in: 1...UInt64.max)
    private var duplicatesDropped = 0
    private let reducedCounter = Counter(label: "fruits_reduced_images_total")
    private let duplicatesCounter = Counter(label: "fruits_duplicates_dropped_total")
    /// Records read but not yet flushed: what a crash now would make Kafka redeliver.
    private let pendingGauge = Gauge(label: "fruits_reducer_pending_records")
    private let flushDuration = Timer(label: "fruits_flush_duration_seconds")
    /// Times this reducer found another owner of its results (0 from the start, so the series exists).
    private let fencedCounter = Counter(label: "fruits_reducer_fenced_total")
    /// The latest model version this reducer knows published.
    private let modelVersionGauge = Gauge(label: "fruits_model_version")
    private var model: PCAModel?
    private var references: ReferenceSet
    private let qualityTrend = QualityTrend()
    /// When, and over how many images, the last model was published.
    private var lastModel: (at: ContinuousClock.Instant, images: Int)?

    /// Labelled references the classifier holds (bounded by `maxLabels` x `referencesPerLabel`).
    public var referenceCount: Int { references.count }

    public var totals: Totals {
        Totals(features: state.accumulator.count, deadLetters: state.deadLetters,
               duplicatesDropped: duplicatesDropped, model: model)
    }

    public enum OffsetReset: String, Sendable, CaseIterable {
        case earliest, latest
    }

    /// The cluster and partition counts this run reads, for the next checkpoint.
    private var source: ReducerCheckpoint.KafkaSource?

    /// Reads the results' checkpoint: a store that cannot be read fails here, at start.
    public init(configuration: Configuration, store: any ObjectStore, logger: Logger) async throws {
        self.configuration = configuration
        schedule = ReducerSchedule(configuration)
        self.store = store
        self.logger = logger
        self.state = ReducerCheckpoint(dimension: configuration.dimension)
        self.references = Self.emptyReferences(configuration)
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
        try await loadCheckpoint()
        LinearAlgebra.limitThreads(to: CPUBudget.current.cpus)
    }

    private static func emptyReferences(_ configuration: Configuration) -> ReferenceSet {
        ReferenceSet(perLabel: configuration.referencesPerLabel, maxLabels: configuration.maxLabels, trusted: configuration.trustedLabels)
    }

    private func loadCheckpoint() async throws {
        var state = ReducerCheckpoint(dimension: configuration.dimension)
        checkpointVersion = nil
        if let (bytes, version) = try await store.getVersioned(ResultsLayout.checkpoint) {
            state = try ReducerCheckpoint(bytes: bytes, file: store.location.uri(of: ResultsLayout.checkpoint), dimension: configuration.dimension)
            checkpointVersion = version
            logger.info("resuming from checkpoint", metadata: [
                "sequence": "\(state.sequence)", "images": "\(state.accumulator.count)", "offsets": "\(state.offsets.count)"])
        }
        if configuration.resetOffsets != nil { state.offsets = [:] }
        self.state = state
        modelVersionGauge.record(state.modelVersion)
        source = state.source
        nextOffsets = state.offsets
        startOffsets.set(state.offsets)
    }

    /// Makes this reducer the results' only writer: the checkpoint, replaced
    /// conditionally, now says this epoch commits the next flush, so the
    /// previous owner's next commit fails. If another reducer committed since
    /// the checkpoint was read, it is read again and the claim retried.
    private func claimResults() async throws {
        for _ in 0..<10 {
            var claimed = state
            claimed.epochs.commit(sequence: state.sequence + 1, by: epoch)
            do {
                try await replaceCheckpoint(with: claimed)
                state = claimed
                return
            } catch is ObjectStoreConflict {
                logger.notice("another reducer committed to these results meanwhile; reading its checkpoint again")
                try await loadCheckpoint()
            }
        }
        throw Fenced(description: "could not claim \(store.location): other reducers keep replacing its checkpoint")
    }

    /// The one way the checkpoint is written: a conditional replace of the
    /// version this reducer last read or wrote. Throws `ObjectStoreConflict`
    /// when another reducer wrote it since.
    private func replaceCheckpoint(with next: ReducerCheckpoint) async throws {
        checkpointVersion = try await store.put(ResultsLayout.checkpoint, try next.serialized(), contentType: "application/octet-stream",
                                          ifUnchangedSince: checkpointVersion)
    }

    /// Another reducer claimed these results: this one must stop writing.
    public struct Fenced: Error, CustomStringConvertible {
        public let description: String
    }

    private func fenced(at flush: FlushName) -> Fenced {
        fencedCounter.increment()
        return Fenced(description: "another reducer took over \(store.location) (its checkpoint changed under this one at flush "
            + "\(flush.sequence)); stopping: only the newest reducer writes, and it re-reads what this one had not committed")
    }

    /// Assigns the partitions of the topics that exist; with `waiting`, first
    /// waits for the features topic, logging now and then, and claims the
    /// results once it knows the checkpoint's offsets fit this cluster.
    private func assignPartitions(waiting: Bool) async throws {
        let topics = [configuration.topics.features, configuration.topics.deadLetters]
        var lastNotice: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully {
            let partitions = try consumer.partitions(of: topics)
            if !waiting || partitions.contains(where: { $0.topic == configuration.topics.features }) {
                try record(partitions, checkingCheckpoint: waiting)
                if waiting {
                    try await claimResults()
                    try record(partitions, checkingCheckpoint: true)  // the claim may have read a newer checkpoint
                    try checkRetention(of: partitions)
                }
                try consumer.assign(partitions)
                return
            }
            if lastNotice.map({ ContinuousClock.now - $0 >= .seconds(30) }) ?? true {
                logger.notice("waiting for the topic to exist", metadata: ["topic": "\(configuration.topics.features)"])
                lastNotice = .now
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Notes the cluster and partition counts for the next checkpoint; at
    /// start, refuses checkpoint offsets that point into another cluster or
    /// into a topic with fewer partitions than they name (it was created
    /// again): reading on would silently skip that topic's first records.
    private func record(_ partitions: [TopicPartition], checkingCheckpoint: Bool) throws {
        let counts = Dictionary(grouping: partitions, by: \.topic).mapValues(\.count)
        guard checkingCheckpoint else {
            source?.partitions.merge(counts) { max($0, $1) }
            return
        }
        let current = ReducerCheckpoint.KafkaSource(clusterID: consumer.clusterID() ?? "unknown", partitions: counts)
        defer { source = current }
        guard configuration.resetOffsets == nil, !state.offsets.isEmpty, let saved = state.source else { return }
        let hint = "pass --reset-offsets earliest (read these topics from their start) or latest (only new records) to start over"
        guard saved.clusterID == current.clusterID else {
            throw OffsetsDoNotMatch(description: "the checkpoint's offsets belong to Kafka cluster \(saved.clusterID), "
                + "but \(configuration.kafka.bootstrapServers) is cluster \(current.clusterID); \(hint)")
        }
        for (topic, count) in saved.partitions.sorted(by: { $0.key < $1.key }) where (current.partitions[topic] ?? 0) < count {
            throw OffsetsDoNotMatch(description: "the checkpoint read \(count) partitions of \(topic), which now has "
                + "\(current.partitions[topic] ?? 0): the topic was created again; \(hint)")
        }
    }

    /// At start, before reading: records retention deleted before this
    /// reducer read them are a `RetentionLoss` unless the operator accepts it.
    private func checkRetention(of partitions: [TopicPartition]) throws {
        guard configuration.resetOffsets == nil else { return }
        let loss = RetentionLoss(resumeAt: state.offsets, logStarts: try consumer.logStartOffsets(of: partitions))
        for (topic, lost) in loss.byTopic {
            Gauge(label: "fruits_reducer_retention_lost_records", dimensions: [("topic", topic)]).record(lost)
        }
        guard !loss.isEmpty else { return }
        guard configuration.acceptRetentionLoss else { throw loss }
        logger.error("going on without records retention deleted (--accept-retention-loss)", metadata: ["loss": "\(loss)"])
    }

    public struct OffsetsDoNotMatch: Error, CustomStringConvertible {
        public let description: String
    }

    public nonisolated func checkReachable(timeout: Duration) throws { try consumer.checkReachable(timeout: timeout) }

    public func run() async throws {
        defer { try? consumer.close() }
        try await assignPartitions(waiting: true)
        try await prepareResults()
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
            if schedule.flushIsDue(pending: pending.count, offsetsMoved: nextOffsets != state.offsets, lastFlush: lastFlush, now: .now) {
                try await flush()
                lastFlush = .now
            }
            if schedule.modelIsDue(images: state.accumulator.count, publishedSamples: state.modelSamples, lastModel: lastModel,
                                   started: started, now: .now) {
                try await publishModel(final: false)
            }
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
        if finalize { try await finalizeResults() }
    }

    /// Loads the ids the results hold and removes files no checkpoint
    /// committed. Only the owner does this, after its claim: nobody else can
    /// commit any more, so what is not committed now never will be.
    private func prepareResults() async throws {
        let started = ContinuousClock.now
        written = try await WrittenImages.load(from: store, committedBy: state)
        let stale = try await ResultsLayout.uncommittedFiles(in: store, checkpoint: state)
        for key in stale { try await store.delete(key) }
        let store = self.store, startedAt = self.startedAt
        let abandoned = try await ConcurrentMap.map(ResultsLayout.folders, parallelism: ResultsLayout.folders.count) { folder in
            try await store.abandonIncompleteWrites(under: folder, startedBefore: startedAt)
        }.reduce(0, +)
        references = try await ReferenceSet.load(from: store, committedBy: state, empty: Self.emptyReferences(configuration),
                                                 dimension: configuration.dimension)
        let modelKey = ResultsLayout.model(version: state.modelVersion)
        if state.modelVersion > 0, let latest = try? await store.get(modelKey) {
            // Flushes project with it until the next.
            model = try PCAModel.decode(latest, file: store.location.uri(of: modelKey), dimension: configuration.dimension)
        }
        logger.info("results loaded", metadata: [
            "images": "\(written.count)", "references": "\(references.count)", "model_version": "\(state.modelVersion)",
            "uncommitted_files_removed": "\(stale.count)", "incomplete_writes_removed": "\(abandoned)",
            "duration": "\(ContinuousClock.now - started)"])
    }

    private func accept(_ message: KafkaMessage) {
        nextOffsets[message.topicPartition] = message.offset + 1
        if message.topic == configuration.topics.deadLetters {
            guard let letter = try? Fruits_V1_DeadLetter(serializedBytes: message.value) else {
                return holdDeadLetter(Self.malformed(message, why: "not a fruits.v1.DeadLetter"))
            }
            return holdDeadLetter(letter)
        }
        guard let event = try? Fruits_V1_FeatureEvent(serializedBytes: message.value) else {
            return holdDeadLetter(Self.malformed(message, why: "not a fruits.v1.FeatureEvent"))
        }
        guard let key = ImageKey(imageID: event.imageID) else {
            return holdDeadLetter(Self.malformed(message, why: "image_id \(event.imageID.prefix(64).debugDescription) is not 32 lowercase hex digits"))
        }
        if let refusal = FeatureEventValidation(dimension: configuration.dimension).refusal(of: event.features) {
            return holdDeadLetter(Self.rejected(event, message, reason: refusal.reason, why: refusal.message))
        }
        note(pending.add(event, key: key))
    }

    private func holdDeadLetter(_ letter: Fruits_V1_DeadLetter) {
        note(pending.add(letter))
    }

    private func note(_ outcome: PendingBatch.Outcome) {
        switch outcome {
        case .duplicate: countDuplicates(1)
        case .held(let newKey): if let newKey { progress?.held(newKey, written: written) }
        }
    }

    /// A record on a reducer topic that is not what `events.proto` promises.
    static func malformed(_ message: KafkaMessage, why: String) -> Fruits_V1_DeadLetter {
        var letter = Fruits_V1_DeadLetter()
        letter.reason = "malformed_event"
        letter.message = why
        letter.stage = "reduce"
        letter.topic = message.topic
        letter.partition = message.partition
        letter.offset = message.offset
        letter.original = Data(message.value)
        letter.failedAtMicros = EventIdentity.nowMicros()
        return letter
    }

    /// A well-formed feature event whose features cannot be used.
    static func rejected(_ event: Fruits_V1_FeatureEvent, _ message: KafkaMessage, reason: String, why: String) -> Fruits_V1_DeadLetter {
        var letter = malformed(message, why: why)
        letter.reason = reason
        letter.imageID = event.imageID
        letter.uri = event.uri
        letter.original = Data()
        return letter
    }

    private func countDuplicates(_ count: Int) {
        guard count > 0 else { return }
        duplicatesDropped += count
        duplicatesCounter.increment(by: count)
    }

    /// Parts and id manifests first, named by this flush and epoch, then the
    /// checkpoint (the commit point, a conditional replace), then Kafka
    /// (`FlushCommit`). A crash in between replays from the previous
    /// checkpoint under a new epoch; the crashed attempt's files never count
    /// and the next start removes them.
    private func flush() async throws {
        guard nextOffsets != state.offsets || !pending.isEmpty else { return }
        let started = ContinuousClock.now
        defer { flushDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        countDuplicates(pending.dropWritten(written))
        let prepared = prepareFlush()
        do {
            checkpointVersion = try await prepared.commit.commit(
                to: store, replacing: checkpointVersion, crashPoint: configuration.crashPoint)
        } catch is ObjectStoreConflict {
            throw fenced(at: prepared.commit.name)
        }
        progress?.committed(pending.keys, written: written)
        written.insert(prepared.featureKeys, as: .features)
        written.insert(prepared.letterKeys, as: .deadLetters)
        references = prepared.references
        state = prepared.commit.checkpoint
        logger.info("flushed", metadata: [
            "sequence": "\(state.sequence)", "features": "\(prepared.featureKeys.count)", "dead_letters": "\(prepared.deadLetters)",
            "total": "\(state.accumulator.count)", "duration": "\(ContinuousClock.now - started)"])
        reducedCounter.increment(by: prepared.featureKeys.count)
        pending = PendingBatch()
        pendingGauge.record(0)
        let offsets = nextOffsets
        do { try consumer.commit(offsets) } catch {
            // The checkpoint, not Kafka, is the source of truth for offsets.
            logger.warning("offset commit failed", metadata: ["error": "\(error)"])
        }
    }

    /// A flush of the pending batch, ready to commit, with what the reducer
    /// knows once it is committed.
    private struct PreparedFlush: Sendable {
        let commit: FlushCommit
        let references: ReferenceSet
        let featureKeys: [ImageKey]
        let letterKeys: [ImageKey]
        let deadLetters: Int
    }

    /// Grows the Gram matrix and lays out the pending batch's files (each
    /// encoded when it is written): CPU work, on the reducer's thread.
    private func prepareFlush() -> PreparedFlush {
        let pendingFeatures = pending.features, pendingDeadLetters = pending.deadLetters
        var next = state
        next.sequence += 1
        let name = FlushName(sequence: next.sequence, epoch: epoch)
        let featureKeys = pendingFeatures.compactMap { ImageKey(imageID: $0.imageID) }
        let letterKeys = pendingDeadLetters.compactMap { ImageKey(imageID: $0.imageID) }
        var files: [FlushCommit.File] = []
        if !pendingFeatures.isEmpty {
            files.append(.parquet(ResultsLayout.featuresPart(name), pendingFeatures.map(ResultsLayout.row), ResultsLayout.features))
            next.accumulator.add(pendingFeatures.map(\.features))
            if let model {
                let coordinates = Projector(model).project(rows: pendingFeatures.map(\.features))
                let rows = zip(pendingFeatures, coordinates).map { event, pca in
                    [ParquetValue.string(event.imageID), .string(event.uri), .string(event.label), .floatList(pca),
                     .int64(Int64(model.version ?? 0))]
                }
                files.append(.parquet(ResultsLayout.projectedPart(forFeaturesPart: ResultsLayout.featuresPart(name)), rows, ResultsLayout.projected))
            }
        }
        var nextReferences = references
        let joined = pendingFeatures.compactMap { event -> ReferenceSet.Reference? in
            guard let key = ImageKey(imageID: event.imageID),
                  nextReferences.offer(key: key, label: event.label, features: event.features, trusted: event.source != .upload, uri: event.uri)
            else { return nil }
            return ReferenceSet.Reference(key: key, label: event.label, features: event.features, uri: event.uri)
        }
        if let file = ReferenceSet.file(of: joined, flush: name) { files.append(file) }
        if !pendingDeadLetters.isEmpty {
            files.append(.parquet(ResultsLayout.deadLettersPart(name), pendingDeadLetters.map(ResultsLayout.row), ResultsLayout.deadLetters))
            next.deadLetters += letterKeys.count
        }
        files += [WrittenImages.manifest(featureKeys, as: .features, flush: name),
                  WrittenImages.manifest(letterKeys, as: .deadLetters, flush: name)].compactMap { $0 }
        next.offsets = nextOffsets
        next.source = source
        next.epochs.commit(sequence: next.sequence, by: epoch)
        return PreparedFlush(commit: FlushCommit(name: name, files: files, checkpoint: next), references: nextReferences,
                             featureKeys: featureKeys, letterKeys: letterKeys, deadLetters: pendingDeadLetters.count)
    }

    /// Solves the PCA over what is committed and publishes it, with its
    /// classifier, as the next version: the version is committed in the
    /// checkpoint first (a fenced reducer cannot publish), then the version's
    /// folder (`references.parquet`, `evaluation.json`, `model.json`), then
    /// `pca/model.json` last, so a reader never finds a model.json whose
    /// version's files are missing.
    @discardableResult
    private func publishModel(final: Bool) async throws -> (model: PCAModel, json: [UInt8]) {
        let started = ContinuousClock.now
        var model = try PCAModel(state.accumulator, dimension: configuration.pca)
        var next = state
        next.modelVersion += 1
        next.modelSamples = model.nSamples
        do {
            try await replaceCheckpoint(with: next)
        } catch is ObjectStoreConflict {
            throw fenced(at: FlushName(sequence: state.sequence + 1, epoch: epoch))
        }
        state = next
        model.version = next.modelVersion
        model.createdAt = ISO8601DateFormatter().string(from: Date())
        let published = try modelFiles(model, previous: await ClassifierEvaluation.published(version: next.modelVersion - 1, in: store))
        let store = self.store
        try await ConcurrentMap.run(published.files.map { file in { try await store.put(file) } })
        if !final { try await publishPointer(json: published.json, version: next.modelVersion) }
        lastModel = (ContinuousClock.now, published.model.nSamples)
        modelVersionGauge.record(next.modelVersion)
        self.model = published.model
        logger.info("model published", metadata: [
            "version": "\(next.modelVersion)", "samples": "\(model.nSamples)", "k": "\(model.k)", "final": "\(final)",
            "references": "\(published.references)", "accuracy": "\(String(format: "%.4f", published.accuracy))",
            "duration": "\(ContinuousClock.now - started)"])
        return (published.model, published.json)
    }

    /// A model version's files, its classifier evaluated: CPU work, on the reducer's thread.
    private func modelFiles(_ solved: PCAModel, previous: ClassifierEvaluation?) throws
        -> (model: PCAModel, json: [UInt8], files: [FlushCommit.File], references: Int, accuracy: Double) {
        var model = solved
        let version = model.version ?? 0
        let classifier = try ClassifierPublication(model: model, references: references.all, neighbours: configuration.neighbours,
                                                   perLabel: configuration.referencesPerLabel, options: configuration.classifier, previous: previous)
        qualityTrend.record(classifier.evaluation.quality, version: version, logger: logger)
        model.classifier = classifier.summary
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array(try encoder.encode(model))
        let files = classifier.files + [.init(key: ResultsLayout.model(version: version), bytes: json, contentType: "application/json")]
        return (model, json, files, classifier.summary.references, classifier.summary.heldOutAccuracy ?? classifier.evaluation.accuracy)
    }

    /// `pca/model.json`, then `pca/version` (what answerers poll: a few
    /// bytes), once this reducer has proved it still owns the results, and
    /// never over a newer version: the published version only goes forward.
    private func publishPointer(json: [UInt8], version: Int) async throws {
        try await proveOwnership()
        if let published = try await NearestNeighbours.latestVersion(in: store), published > version {
            logger.notice("a newer model is published already; leaving it", metadata: ["published": "\(published)", "this": "\(version)"])
            return
        }
        try await store.put(ResultsLayout.model, json, contentType: "application/json")
        try await store.put(ResultsLayout.latestVersion, Array("\(version)\n".utf8), contentType: "text/plain")
    }

    /// Solves the PCA and writes the model and every projected part. A part
    /// this reducer's checkpoint does not count is left alone: it may be a
    /// newer owner's, and only an owner's start removes what is not
    /// committed. Ownership is proved again before the projected parts and
    /// before the published pointer.
    private func finalizeResults() async throws {
        guard state.accumulator.count >= 2 else {
            logger.warning("fewer than 2 images: no PCA model written")
            return
        }
        let (model, json) = try await publishModel(final: true)
        let parts = try await store.list(prefix: "features/")
        // Once before the projected parts and once before the pointer, not per
        // part: each proof rewrites the checkpoint (6.3 MiB at 1,280 dimensions).
        try await proveOwnership()
        for part in parts where part.key.hasSuffix(".parquet") {
            guard let flush = FlushName(key: part.key), state.commits(flush) else { continue }
            let bytes = try await store.get(part.key)
            let projected: [UInt8]
            do {
                projected = try ResultsLayout.encode(Self.projectedRows(ofFeaturesPart: bytes, model: model), schema: ResultsLayout.projected)
            } catch {
                // Someone else's file in our folder must not stop the finalize.
                logger.warning("skipping a file that is not a features part of these results",
                               metadata: ["key": "\(part.key)", "error": "\(error)"])
                continue
            }
            try await store.put(ResultsLayout.projectedPart(forFeaturesPart: part.key), projected, contentType: ResultsLayout.parquetType)
        }
        // Last: a reader that finds this version in pca/model.json finds every projected part too.
        try await publishPointer(json: json, version: model.version ?? 0)
        logger.info("PCA written", metadata: [
            "k": "\(model.k)", "samples": "\(model.nSamples)",
            "explained": "\(String(format: "%.4f", model.explainedVarianceRatio.reduce(0, +)))"])
    }

    /// The checkpoint rewritten as it is, conditionally: refused if another
    /// reducer claimed the results since this one last wrote it. Done
    /// right before writes that readers see outside the commit protocol
    /// (the projected parts, the published pointer), so a reducer fenced
    /// while it evaluated or projected stops there.
    private func proveOwnership() async throws {
        do {
            try await replaceCheckpoint(with: state)
        } catch is ObjectStoreConflict {
            throw fenced(at: FlushName(sequence: state.sequence + 1, epoch: epoch))
        }
    }
}

extension ReducerService {
    /// The projected rows of one features part; throws if the file is not one.
    static func projectedRows(ofFeaturesPart bytes: [UInt8], model: PCAModel) throws -> [[ParquetValue]] {
        let reader = try ParquetReader(bytes: bytes)
        let ids = try reader.strings("image_id"), paths = try reader.strings("path"), labels = try reader.strings("label")
        let features = try reader.floatLists("features")
        guard [ids.count, paths.count, labels.count, features.count].allSatisfy({ $0 == reader.rowCount }) else {
            throw ResultsLayout.ForeignFile(reason: "its columns do not have \(reader.rowCount) rows each")
        }
        guard features.allSatisfy({ $0?.count == model.mean.count }) else {
            throw ResultsLayout.ForeignFile(reason: "a row without \(model.mean.count) features")
        }
        // One matrix product per block of rows, not a dot product per row and component.
        let projected = Projector(model).project(rows: features.map { $0 ?? [] })
        return (0..<reader.rowCount).map { index in
            [.string(ids[index]), .string(paths[index]), .string(labels[index]), .floatList(projected[index]),
             .int64(Int64(model.version ?? 0))]
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
