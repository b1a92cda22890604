import Common
import Extractor

/// Throughput and per-layer cost of the extractor on a set of JPEGs. The CLI
/// (`fruits bench extract`) prints what this measures; run it in release.
public struct ExtractorBenchmark {
    public struct LayerCost: Sendable {
        public let name: String
        public let implementation: String
        public let macsPerImage: Int
        public let secondsPerImage: Double
        public var gflops: Double { 2 * Double(macsPerImage) / secondsPerImage / 1e9 }
    }

    public struct Report: Sendable {
        public var images = 0
        public var batchSize = 0
        public var threads: Int?
        /// How the images were decoded (`FeatureExtractor.Configuration.decoding`).
        public var decoding = DecodeOptions.seed
        public var decodeImagesPerSecond = 0.0
        /// libjpeg-turbo's own decode at the same scale, nothing of ours around it.
        public var turboJPEGImagesPerSecond = 0.0
        public var decodeResizeImagesPerSecond = 0.0
        public var modelImagesPerSecond = 0.0
        public var modelGFLOPS = 0.0
        public var endToEndImagesPerSecond = 0.0
        public var parallelWorkers = 0
        public var parallelImagesPerSecond = 0.0
        public var referenceConvolutionGFLOPS = 0.0
        /// The same convolution with BF16 activations and weights, and the
        /// kernel oneDNN chose for it (AMX where the CPU has it); nil on a
        /// CPU without BF16 convolutions.
        public var referenceConvolutionBF16: (gflops: Double, implementation: String)?
        /// The CPU's model name and the instruction set oneDNN runs on.
        public var cpu = CPUDescription.current
        public var layers: [LayerCost] = []
        public var activationBytes = 0
        public var peakResidentBytes: Int?
    }

    let extractor: FeatureExtractor
    let jpegs: [[UInt8]]
    let seconds: Double

    public init(extractor: FeatureExtractor, jpegs: [[UInt8]], seconds: Double) {
        precondition(!jpegs.isEmpty, "the benchmark needs images")
        self.extractor = extractor
        self.jpegs = jpegs
        self.seconds = seconds
    }

    public func run() throws -> Report {
        var report = Report()
        report.images = jpegs.count
        report.batchSize = extractor.configuration.batchSize
        report.threads = OpenMP.maxThreads

        // libjpeg-turbo alone, our decode, then decode + resize, one thread;
        // the first two in turn, twice, so drift on a shared machine hits both.
        let decoding = extractor.configuration.decoding
        report.decoding = decoding
        let decoder = JPEGDecoder(limits: extractor.configuration.limits)
        let reference = TurboJPEGReference()
        var decodeOnlyTime = 0.0, referenceTime = 0.0
        for _ in 0..<2 {
            referenceTime += time {
                for jpeg in jpegs { _ = reference.decode(jpeg, options: decoding) }
            }
            decodeOnlyTime += try time {
                for jpeg in jpegs { _ = try decoder.decodeStored(jpeg, options: decoding) }
            }
        }
        report.turboJPEGImagesPerSecond = Double(2 * jpegs.count) / referenceTime
        report.decodeImagesPerSecond = Double(2 * jpegs.count) / decodeOnlyTime
        var prepared: [RGBImage] = []
        let decodeTime = try time {
            prepared = try jpegs.map { try extractor.prepare(jpeg: $0) }
        }
        report.decodeResizeImagesPerSecond = Double(jpegs.count) / decodeTime

        // The model alone, on already prepared batches, after one warm-up pass.
        let batch = Array((0..<report.batchSize).map { prepared[$0 % prepared.count] })
        _ = try extractor.features(of: batch)
        var modelImages = 0
        let modelTime = try repeatFor(seconds) {
            _ = try extractor.features(of: batch)
            modelImages += batch.count
        }
        report.modelImagesPerSecond = Double(modelImages) / modelTime
        let network = try extractor.network(for: report.batchSize)
        let macsPerImage = network.layerDescriptions.map(\.macs).reduce(0, +) / report.batchSize
        report.modelGFLOPS = 2 * Double(macsPerImage) * report.modelImagesPerSecond / 1e9
        report.activationBytes = network.activationBytes

        // Decode + resize + model, the way `fruits featurize` runs.
        var endToEndImages = 0
        var next = 0
        let endToEndTime = try repeatFor(seconds) {
            let chunk = (0..<report.batchSize).map { jpegs[(next + $0) % jpegs.count] }
            next += chunk.count
            _ = try extractor.features(ofJPEGs: chunk)
            endToEndImages += chunk.count
        }
        report.endToEndImagesPerSecond = Double(endToEndImages) / endToEndTime

        report.layers = try layerCosts(network: network, batch: batch)
        report.referenceConvolutionGFLOPS = try ReferenceConvolution.gflops(seconds: min(seconds, 3)).gflops
        if Precision.bf16.isSupported {
            report.referenceConvolutionBF16 = try ReferenceConvolution.gflops(seconds: min(seconds, 3), precision: .bf16)
        }
        report.peakResidentBytes = ProcessStats.peakResidentBytes
        return report
    }

    private func layerCosts(network: InferenceNetwork, batch: [RGBImage]) throws -> [LayerCost] {
        let descriptions = network.layerDescriptions
        var nanos = [UInt64](repeating: 0, count: descriptions.count)
        var passes = 0
        let start = DispatchTimeNanos.now()
        repeat {
            _ = try network.forward { index, elapsed in nanos[index] += elapsed }
            passes += 1
        } while Double(DispatchTimeNanos.now() - start) / 1e9 < min(seconds, 3)
        let images = Double(passes * network.batchSize)
        return descriptions.enumerated().map { index, layer in
            LayerCost(name: layer.name, implementation: layer.implementation,
                      macsPerImage: layer.macs / network.batchSize, secondsPerImage: Double(nanos[index]) / 1e9 / images)
        }
    }

    private func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTimeNanos.now()
        try body()
        return Double(DispatchTimeNanos.now() - start) / 1e9
    }

    private func repeatFor(_ seconds: Double, _ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTimeNanos.now()
        var elapsed = 0.0
        repeat {
            try body()
            elapsed = Double(DispatchTimeNanos.now() - start) / 1e9
        } while elapsed < seconds
        return elapsed
    }
}
