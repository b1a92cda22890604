import Foundation
import TestSupport
import Testing

@Suite("fruits bench reduce", .tags(.integration), .usesFruitsBinary)
struct BenchReduceTests {
    /// The benchmark reduces every event it produced (none dropped by the
    /// broker's retention, none left behind) and reports it machine-readably.
    @Test func itReducesEveryEventAndReportsTheRate() async throws {
        let run = try await Tools.run(Tools.fruits, ["bench", "reduce", "--events", "3000", "--dimension", "16", "--window", "500", "--finalize"],
                                timeout: .seconds(120))
        try #require(run.status == 0, "\(run.output.suffix(2000))")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("REDUCE_BENCH ") })
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst("REDUCE_BENCH ".count).utf8)) as? [String: Any])
        #expect(report["events"] as? Int == 3000 && report["finalize"] as? Bool == true)
        #expect((report["events_per_second"] as? Double ?? 0) > 0 && (report["peak_rss_bytes"] as? Int ?? 0) > 0)
    }
}
