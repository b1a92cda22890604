import Common
import Foundation
import ObjectStorage
import Parquet
import Results

extension ResultsOwner {
    /// Publishes a model when the schedule says one is due.
    func publishModelIfDue(_ schedule: ReducerSchedule, started: ContinuousClock.Instant) async throws {
        guard schedule.modelIsDue(images: state.accumulator.count, publishedSamples: state.modelSamples, lastModel: lastModel,
                                  started: started, now: .now) else { return }
        try await publishModel(final: false)
    }

    /// Solves the PCA over what is committed and publishes it, with its
    /// classifier, as the next version: the version is committed in the
    /// checkpoint first (a fenced reducer cannot publish), then the version's
    /// folder (`references.parquet`, `evaluation.json`, `model.json`), then
    /// `pca/model.json` last, so a reader never finds a model.json whose
    /// version's files are missing.
    @discardableResult
    func publishModel(final: Bool) async throws -> (model: PCAModel, json: [UInt8]) {
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
    func finalize() async throws {
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
