import Common
import Foundation
import Logging
import ObjectStorage
import Report
import Synchronization

/// The upload endpoint's page at `GET /`: the uploads of the last 5 minutes,
/// the report of the latest results and the operator's extra rows (consumer
/// lag, say). It shows counts, labels and PCA coordinates, never an image, a
/// path or an id, so it needs no token. What it reads elsewhere is at most 30 s
/// old, failures included, and one look-up at a time serves every request
/// that arrives meanwhile: a page reloaded by many browsers costs the results
/// store one read every 30 s, and a damaged part is a row on the page and a
/// warning in the log, not an error for every visitor.
public final class UploadStatusPage: Sendable {
    /// More rows for the page (consumer lag, say).
    public typealias Rows = @Sendable () async throws -> [(String, String)]

    private struct Snapshot: Sendable {
        let at: ContinuousClock.Instant
        let summary: ResultsSummary
        let rows: [(String, String)]
    }

    private let results: (any ObjectStore)?
    private let rows: Rows?
    private let logger: Logger
    private let recentUploads = Mutex<[ContinuousClock.Instant]>([])
    private let cache = Mutex<(snapshot: Snapshot?, refreshing: Task<Snapshot, Never>?)>((nil, nil))

    public init(results: (any ObjectStore)? = nil, logger: Logger = Logger(label: "fruits.status"), rows: Rows? = nil) {
        self.results = results
        self.rows = rows
        self.logger = logger
    }

    func uploadAccepted() {
        let now = ContinuousClock.now
        recentUploads.withLock { times in
            times.removeAll { now - $0 > .seconds(300) }
            times.append(now)
        }
    }

    func html() async -> String {
        let now = ContinuousClock.now
        let recent = recentUploads.withLock { times in times.filter { now - $0 <= .seconds(300) }.count }
        let snapshot = await lookedUp(at: now)
        var page = ReportPage(summary: snapshot.summary, title: "fruits upload endpoint")
        page.refreshSeconds = 30
        page.status = [("uploads accepted, last 5 minutes", "\(recent)"),
                       ("results", results.map { "\($0.location)" } ?? "not configured (--results)")] + snapshot.rows
        return page.html
    }

    private func lookedUp(at now: ContinuousClock.Instant) async -> Snapshot {
        let refresh = cache.withLock { cache -> Result<Snapshot, Never>? in
            if let snapshot = cache.snapshot, now - snapshot.at < .seconds(30) { return .success(snapshot) }
            return nil
        }
        if case .success(let fresh) = refresh { return fresh }
        let task = cache.withLock { cache in
            if let running = cache.refreshing { return running }
            let started = Task { await self.load() }
            cache.refreshing = started
            return started
        }
        let snapshot = await task.value
        cache.withLock { cache in
            cache.snapshot = snapshot
            cache.refreshing = nil
        }
        return snapshot
    }

    private func load() async -> Snapshot {
        var summary = ResultsSummary()
        var problems: [(String, String)] = []
        if let results {
            do {
                summary = try await ResultsSummary.load(from: results)
            } catch {
                logger.warning("the status page could not read the results", metadata: ["error": "\(error)"])
                problems.append(("results", "unavailable right now (the endpoint's log says why)"))
            }
            for part in summary.unreadableParts {
                logger.warning("the status page left out an unreadable results part", metadata: ["key": "\(part.key)", "reason": "\(part.reason)"])
            }
        }
        let rows = (try? await self.rows?() ?? []) ?? [("status", "unavailable")]
        return Snapshot(at: .now, summary: summary, rows: problems + rows)
    }
}
