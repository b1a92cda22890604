import Foundation
import TestSupport
import Testing

/// tools/bench_memory.py at a small scale: hostile progressive CMYK photos
/// mixed into a backfill, through `fruits run` (docs/extractor.md, "Memory budget").
@Suite("Extractor memory budget: hostile photos in a backfill")
struct MemoryBudgetTests {
    @Test func hostilePhotosAreDeadLetteredAndTheBackfillIsUnaffected() async throws {
        let run = try await Tools.run(Tools.python, [
            Tools.root.appendingPathComponent("tools/bench_memory.py").path, "--backfill", "40", "--hostile", "3",
            "--megapixels", "4", "--memory-limit", "512MiB", "--decode-memory", "24MiB", "--fruits", Tools.fruits, "--timeout", "300",
        ], timeout: .seconds(400))
        #expect(run.status == 0, "\(run.output.suffix(3000))")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("{") }, "\(run.output.suffix(3000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(report["backfill_with_features"] as? Int == 40)
        #expect(report["hostile_dead_letters"] as? Int == 3)
        #expect((report["example_message"] as? String)?.contains("2449x1633 progressive, 4 components") == true, "\(report)")
    }

    @Test func sizesAreParsedStrictly() async throws {
        let run = try await Tools.run(Tools.fruits, ["extract", "--brokers", "127.0.0.1:1", "--decode-memory", "12 apples"], timeout: .seconds(60))
        #expect(run.status == 64, "\(run.output)")
        #expect(run.output.contains("--decode-memory takes a size such as 536870912, 512MiB or 2GiB, not '12 apples'"), "\(run.output)")
        let tooSmall = try await Tools.run(Tools.fruits, ["extract", "--brokers", "127.0.0.1:1", "--memory-limit", "256MiB", "--decode-memory", "220MiB"],
                                           timeout: .seconds(60))
        #expect(tooSmall.status != 0)
        #expect(tooSmall.output.contains("leave nothing of the 268435456-byte memory limit (--memory-limit)"), "\(tooSmall.output)")
    }
}
