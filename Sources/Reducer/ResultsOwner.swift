import Common
import Events
import Foundation
import Kafka
import Logging
import Metrics
import ObjectStorage
import Parquet
import Results

/// The results' one writer: claims them at start by replacing the checkpoint
/// conditionally, commits each flush (its files, then the checkpoint), and
/// publishes models and the final projection. Every later checkpoint is a
/// conditional replace of the one it wrote before, so a reducer that another
/// has since claimed (a rolling update, a second start by mistake) finds its
/// next commit refused and stops with `Fenced`; its files, named by its
/// epoch, never count and never overwrite the new owner's.
///
/// The reduce loop (`ReducerService`) reads the records and says what to
/// commit; this actor shares its thread, so CPU work (encoding parts, the
/// Gram update, the PCA solve) stays off the cooperative pool.
actor ResultsOwner {
    private let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let configuration: ReducerService.Configuration
    let store: any ObjectStore
    let logger: Logger
    /// This process run, in the checkpoint's epoch history once it commits.
    let epoch = UInt64.random(in: 1...UInt64.max)
    var state: ReducerCheckpoint
    /// The checkpoint's version as this reducer last read or wrote it: the
    /// condition of its next commit.
    private var checkpointVersion: ObjectVersion?
    /// The latest model: flushes project with it until the next.
    var model: PCAModel?
    var references: ReferenceSet
    /// When, and over how many images, the last model was published.
    var lastModel: (at: ContinuousClock.Instant, images: Int)?
    private let startedAt = Date()
    private let flushDuration = Timer(label: "fruits_flush_duration_seconds")
    /// Times this reducer found another owner of its results (0 from the start, so the series exists).
    private let fencedCounter = Counter(label: "fruits_reducer_fenced_total")
    /// The latest model version this reducer knows published.
    let modelVersionGauge = Gauge(label: "fruits_model_version")
    /// Logs and counts a published classifier that is worse than the one before.
    let qualityTrend = QualityTrend()

    init(configuration: ReducerService.Configuration, store: any ObjectStore, logger: Logger, executor: ThreadExecutor) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.executor = executor
        state = ReducerCheckpoint(dimension: configuration.dimension)
        references = Self.emptyReferences(configuration)
    }

    private static func emptyReferences(_ configuration: ReducerService.Configuration) -> ReferenceSet {
        ReferenceSet(perLabel: configuration.referencesPerLabel, maxLabels: configuration.maxLabels, trusted: configuration.trustedLabels)
    }

    /// Where the checkpoint says to read on, and the cluster it read.
    var resumeOffsets: [TopicPartition: Int64] { state.offsets }
    var checkpointSource: ReducerCheckpoint.KafkaSource? { state.source }

    func totals(duplicatesDropped: Int) -> ReducerService.Totals {
        ReducerService.Totals(features: state.accumulator.count, deadLetters: state.deadLetters,
                              duplicatesDropped: duplicatesDropped, model: model)
    }

    /// Reads the checkpoint, if there is one; a store that cannot be read fails here.
    func loadCheckpoint() async throws {
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
    }

    /// Makes this reducer the results' only writer: the checkpoint, replaced
    /// conditionally, now says this epoch commits the next flush, so the
    /// previous owner's next commit fails. If another reducer committed since
    /// the checkpoint was read, it is read again and the claim retried.
    func claim() async throws {
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
        throw ReducerService.Fenced(description: "could not claim \(store.location): other reducers keep replacing its checkpoint")
    }

    /// The one way the checkpoint is written: a conditional replace of the
    /// version this reducer last read or wrote. Throws `ObjectStoreConflict`
    /// when another reducer wrote it since.
    func replaceCheckpoint(with next: ReducerCheckpoint) async throws {
        checkpointVersion = try await store.put(ResultsLayout.checkpoint, try next.serialized(), contentType: "application/octet-stream",
                                                ifUnchangedSince: checkpointVersion)
    }

    func fenced(at flush: FlushName) -> ReducerService.Fenced {
        fencedCounter.increment()
        return ReducerService.Fenced(description: "another reducer took over \(store.location) (its checkpoint changed under this one at flush "
            + "\(flush.sequence)); stopping: only the newest reducer writes, and it re-reads what this one had not committed")
    }

    /// The checkpoint rewritten as it is, conditionally: refused if another
    /// reducer claimed the results since this one last wrote it. Done
    /// right before writes that readers see outside the commit protocol
    /// (the projected parts, the published pointer), so a reducer fenced
    /// while it evaluated or projected stops there.
    func proveOwnership() async throws {
        do {
            try await replaceCheckpoint(with: state)
        } catch is ObjectStoreConflict {
            throw fenced(at: FlushName(sequence: state.sequence + 1, epoch: epoch))
        }
    }

    /// Loads the ids the results hold and removes files no checkpoint
    /// committed. Only the owner does this, after its claim: nobody else can
    /// commit any more, so what is not committed now never will be.
    func prepare() async throws -> WrittenImages {
        let started = ContinuousClock.now
        let written = try await WrittenImages.load(from: store, committedBy: state)
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
            model = try PCAModel.decode(latest, file: store.location.uri(of: modelKey), dimension: configuration.dimension)
        }
        logger.info("results loaded", metadata: [
            "images": "\(written.count)", "references": "\(references.count)", "model_version": "\(state.modelVersion)",
            "uncommitted_files_removed": "\(stale.count)", "incomplete_writes_removed": "\(abandoned)",
            "duration": "\(ContinuousClock.now - started)"])
        return written
    }

    /// What a committed flush added to the results.
    struct Flushed: Sendable {
        let featureKeys: [ImageKey]
        let letterKeys: [ImageKey]
    }

    /// Parts and id manifests first, named by this flush and epoch, then the
    /// checkpoint (the commit point, a conditional replace), then Kafka
    /// (`FlushCommit`). A crash in between replays from the previous
    /// checkpoint under a new epoch; the crashed attempt's files never count
    /// and the next start removes them.
    func commit(_ pending: PendingBatch, offsets: [TopicPartition: Int64],
                source: ReducerCheckpoint.KafkaSource?) async throws -> Flushed {
        let started = ContinuousClock.now
        defer { flushDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        let prepared = prepareFlush(pending, offsets: offsets, source: source)
        do {
            checkpointVersion = try await prepared.commit.commit(
                to: store, replacing: checkpointVersion, crashPoint: configuration.crashPoint)
        } catch is ObjectStoreConflict {
            throw fenced(at: prepared.commit.name)
        }
        references = prepared.references
        state = prepared.commit.checkpoint
        logger.info("flushed", metadata: [
            "sequence": "\(state.sequence)", "features": "\(prepared.flushed.featureKeys.count)",
            "dead_letters": "\(pending.deadLetters.count)", "total": "\(state.accumulator.count)",
            "duration": "\(ContinuousClock.now - started)"])
        return prepared.flushed
    }

    /// A flush of the pending batch, ready to commit, with what the reducer
    /// knows once it is committed.
    private struct PreparedFlush: Sendable {
        let commit: FlushCommit
        let references: ReferenceSet
        let flushed: Flushed
    }

    /// Grows the Gram matrix and lays out the pending batch's files (each
    /// encoded when it is written): CPU work, on the reducer's thread.
    private func prepareFlush(_ pending: PendingBatch, offsets: [TopicPartition: Int64],
                              source: ReducerCheckpoint.KafkaSource?) -> PreparedFlush {
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
        next.offsets = offsets
        next.source = source
        next.epochs.commit(sequence: next.sequence, by: epoch)
        return PreparedFlush(commit: FlushCommit(name: name, files: files, checkpoint: next), references: nextReferences,
                             flushed: Flushed(featureKeys: featureKeys, letterKeys: letterKeys))
    }
}
