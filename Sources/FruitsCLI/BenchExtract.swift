import ArgumentParser
import Benchmarks
import Common
import Extractor
import Foundation

struct BenchExtract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Images/s for decode+resize, the model alone and both; per-layer times; peak RSS.",
        discussion: "The last line is machine-readable: EXTRACT_BENCH {json}."
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "A directory of JPEGs (searched recursively).")
    var images: String

    @Option(help: "Use at most this many images (read into memory first).")
    var limit: Int = 2000

    @Option(help: "Seconds to spend on each timed phase.")
    var seconds: Double = 10

    @Option(help: "Also measure this many independent single-threaded extractors side by side (0: skip).")
    var workers: Int = 2

    @Option(help: "Activations and weights: fp32 (what every other command runs) or bf16, the experiment of docs/extractor-tuning.md \"Beyond FP32\": about 1.9x faster on CPUs with AMX, not close enough to TensorFlow's features to offer; needs AVX-512 or AMX.")
    var precision: Precision = .fp32

    func run() throws {
        if let reason = precision.unsupportedReason {
            FileHandle.standardError.write(Data("Error: --precision \(precision.rawValue): \(reason); use --precision fp32\n".utf8))
            throw ExitCode(2)
        }
        let paths = Array(ImageFiles.expand([images]).prefix(limit))
        guard !paths.isEmpty else { throw ValidationError("no *.jpg below \(images)") }
        let jpegs = try paths.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }
        let extractor = try model.makeExtractor(precision: precision)
        var report = try ExtractorBenchmark(extractor: extractor, jpegs: jpegs, seconds: seconds).run()
        if workers > 0 {
            report.parallelWorkers = workers
            report.parallelImagesPerSecond = try ParallelExtraction.imagesPerSecond(
                weights: extractor.weights, jpegs: jpegs, workers: workers,
                configuration: .init(batchSize: model.batch, threads: 1, precision: precision, decoding: model.decoding()),
                seconds: seconds)
        }
        print(Self.render(report))
    }

    static func render(_ report: ExtractorBenchmark.Report) -> String {
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        var lines: [String] = []
        let threads = report.threads.map(String.init) ?? "?"
        func ms(_ imagesPerSecond: Double) -> String { f(1e3 / imagesPerSecond, 2) + " ms/img" }
        let resizeSeconds = 1 / report.decodeResizeImagesPerSecond - 1 / report.decodeImagesPerSecond
        lines.append("images \(report.images), batch \(report.batchSize), oneDNN threads \(threads), decode \(report.decoding), CPU: \(report.cpu)")
        lines.append("libjpeg-turbo alone        \(f(report.turboJPEGImagesPerSecond)) img/s  \(ms(report.turboJPEGImagesPerSecond))  (same scale, reference)")
        lines.append("decode (1 thread)          \(f(report.decodeImagesPerSecond)) img/s  \(ms(report.decodeImagesPerSecond))  (\(f(report.turboJPEGImagesPerSecond / report.decodeImagesPerSecond, 2))x libjpeg-turbo)")
        lines.append("resize (1 thread)                       \(f(resizeSeconds * 1e3, 2)) ms/img  (decode+resize minus decode)")
        lines.append("decode+resize (1 thread)   \(f(report.decodeResizeImagesPerSecond)) img/s  \(ms(report.decodeResizeImagesPerSecond))")
        lines.append("model only                 \(f(report.modelImagesPerSecond)) img/s  \(ms(report.modelImagesPerSecond))  (\(f(report.modelGFLOPS)) GFLOP/s)")
        lines.append("decode+resize+model        \(f(report.endToEndImagesPerSecond)) img/s")
        if report.parallelWorkers > 0 {
            lines.append("decode+resize+model, \(report.parallelWorkers) workers x 1 thread \(f(report.parallelImagesPerSecond)) img/s")
        }
        lines.append("1x1 conv reference         \(f(report.referenceConvolutionGFLOPS)) GFLOP/s -> model at \(f(100 * report.modelGFLOPS / report.referenceConvolutionGFLOPS))%")
        if let bf16 = report.referenceConvolutionBF16 {
            lines.append("1x1 conv reference, BF16   \(f(bf16.gflops)) GFLOP/s (\(bf16.implementation))")
        } else {
            lines.append("1x1 conv reference, BF16   skipped: \(Precision.bf16.unsupportedReason ?? "")")
        }
        lines.append("activations \(report.activationBytes >> 20) MiB, peak RSS \((report.peakResidentBytes ?? 0) >> 20) MiB")
        lines.append("")
        let total = report.layers.map(\.secondsPerImage).reduce(0, +)
        lines.append("layer                           MMAC/img   ms/img   GFLOP/s   share  implementation")
        for layer in report.layers {
            lines.append(
                layer.name.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + f(Double(layer.macsPerImage) / 1e6).leftPadded(10)
                    + f(layer.secondsPerImage * 1e3, 3).leftPadded(9)
                    + f(layer.gflops).leftPadded(10)
                    + (f(100 * layer.secondsPerImage / total) + "%").leftPadded(8)
                    + "  " + layer.implementation)
        }
        var kinds: [String: Double] = [:]
        for layer in report.layers {
            let kind = ["expand", "depthwise", "project"].first { layer.name.hasSuffix($0) } ?? "stem/head"
            kinds[kind, default: 0] += layer.secondsPerImage
        }
        lines.append("by kind: " + kinds.sorted { $0.value > $1.value }
            .map { "\($0.key) \(f(100 * $0.value / total))%" }.joined(separator: ", "))
        let json: [String: Any] = [
            "images": report.images, "batch": report.batchSize, "threads": report.threads ?? 0,
            "decode": report.decoding.description,
            "turbojpeg_img_per_s": report.turboJPEGImagesPerSecond,
            "decode_img_per_s": report.decodeImagesPerSecond,
            "decode_resize_img_per_s": report.decodeResizeImagesPerSecond,
            "model_img_per_s": report.modelImagesPerSecond, "model_gflops": report.modelGFLOPS,
            "end_to_end_img_per_s": report.endToEndImagesPerSecond,
            "parallel_workers": report.parallelWorkers, "parallel_img_per_s": report.parallelImagesPerSecond,
            "reference_conv_gflops": report.referenceConvolutionGFLOPS,
            "reference_conv_bf16_gflops": report.referenceConvolutionBF16?.gflops ?? NSNull(),
            "cpu": report.cpu,
            "peak_rss_mib": (report.peakResidentBytes ?? 0) >> 20,
        ]
        lines.append(benchLine("EXTRACT_BENCH", json))
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
