import Foundation
import TestSupport
import Testing

/// `fruits bench extract` on a CPU without AVX-512, as a new user on an AVX2
/// machine runs it: oneDNN is held to AVX2 (`ONEDNN_MAX_CPU_ISA`), which is
/// what it dispatches to on such a CPU.
@Suite("fruits bench extract on any x86-64 CPU", .tags(.integration), .usesFruitsBinary)
struct BenchExtractTests {
    /// A few of the extractor's good fixtures (the folder also holds broken ones).
    static let images: String = {
        let fixtures = Tools.root.appendingPathComponent("Tests/ExtractorTests/Fixtures")
        let folder = Tools.temporaryPath("bench-extract-images")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["fruit_100_a.jpg", "fruit_100_444.jpg", "exact_224.jpg", "cmyk_96.jpg"] {
            try? FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(name).path, toPath: folder + "/" + name)
        }
        return folder
    }()
    static let avx2Only = ["ONEDNN_MAX_CPU_ISA": "AVX2"]

    @Test func itRunsWithItsDefaultsAndSaysWhatItSkipped() async throws {
        let run = try await Tools.run(Tools.fruits, ["bench", "extract", "--images", Self.images, "--limit", "4", "--seconds", "0.2", "--workers", "1"],
                                      environment: Self.avx2Only, timeout: .seconds(300))
        try #require(run.status == 0, "\(run.output.suffix(2000))")
        #expect(run.output.contains("1x1 conv reference, BF16   skipped: this CPU has no BF16 convolutions"), "\(run.output.suffix(3000))")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("EXTRACT_BENCH ") })
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst("EXTRACT_BENCH ".count).utf8)) as? [String: Any])
        #expect(report["reference_conv_bf16_gflops"] is NSNull)
        #expect((report["cpu"] as? String)?.hasSuffix("oneDNN on AVX2") == true, "\(report)")
        #expect((report["end_to_end_img_per_s"] as? Double ?? 0) > 0)
    }

    @Test func bf16WhereTheCPUHasNoneExitsTwoWithAReason() async throws {
        let run = try await Tools.run(Tools.fruits, ["bench", "extract", "--images", Self.images, "--precision", "bf16"],
                                      environment: Self.avx2Only, timeout: .seconds(60))
        #expect(run.status == 2, "\(run.output.suffix(2000))")
        #expect(run.output.contains("--precision bf16: this CPU has no BF16 convolutions in oneDNN (they need AVX-512 or AMX; oneDNN runs on AVX2)"),
                "\(run.output.suffix(2000))")
    }
}
