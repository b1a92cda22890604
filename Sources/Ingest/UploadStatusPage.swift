import Common
import Foundation
import ObjectStorage
import Report
import Synchronization

/// The upload endpoint's page at `GET /`: the uploads of the last 5 minutes,
/// the report of the latest results and the operator's extra rows (consumer
/// lag, say). It shows counts, labels and PCA coordinates, never an image, a
/// path or an id, so it needs no token. What it reads elsewhere is at most 30 s
/// old, so a page reloaded by many browsers costs the results store little.
public final class UploadStatusPage: Sendable {
    /// More rows for the page, looked up on a blocking-I/O thread.
    public typealias Rows = @Sendable () throws -> [(String, String)]

    private let results: (any ObjectStore)?
    private let rows: Rows?
    private let recentUploads = Mutex<[ContinuousClock.Instant]>([])
    private let cached = Mutex<(at: ContinuousClock.Instant, summary: ResultsSummary, rows: [(String, String)])?>(nil)

    public init(results: (any ObjectStore)? = nil, rows: Rows? = nil) {
        self.results = results
        self.rows = rows
    }

    func uploadAccepted() {
        let now = ContinuousClock.now
        recentUploads.withLock { times in
            times.removeAll { now - $0 > .seconds(300) }
            times.append(now)
        }
    }

    func html() async throws -> String {
        let now = ContinuousClock.now
        let recent = recentUploads.withLock { times in times.filter { now - $0 <= .seconds(300) }.count }
        let (summary, rows) = try await lookedUp(at: now)
        var page = ReportPage(summary: summary, title: "fruits upload endpoint")
        page.refreshSeconds = 30
        page.status = [("uploads accepted, last 5 minutes", "\(recent)"),
                       ("results", results.map { "\($0.location)" } ?? "not configured (--results)")] + rows
        return page.html
    }

    private func lookedUp(at now: ContinuousClock.Instant) async throws -> (ResultsSummary, [(String, String)]) {
        if let cached = cached.withLock({ $0 }), now - cached.at < .seconds(30) { return (cached.summary, cached.rows) }
        var summary = ResultsSummary()
        if let results { summary = try await ResultsSummary.load(from: results) }
        let more = rows
        let rows = (try? await BlockingIOPool.shared.run { try more?() ?? [] }) ?? [("status", "unavailable")]
        cached.withLock { [summary] in $0 = (now, summary, rows) }
        return (summary, rows)
    }
}
