import ArgumentParser
import Common
import Extractor
import Foundation

/// Options shared by every command that runs the model.
struct ModelOptions: ParsableArguments {
    @Option(help: "The fruits weight file (default: $FRUITS_WEIGHTS, else models/mobilenet_v2_1.0_224.fw).")
    var weights: String?

    @Option(help: "Images per forward pass (featurize, bench extract). 1 is fastest on small machines (the activations stay in cache) and makes each image's features independent of its batch-mates; extract and run pass each photo on as it arrives, so 1 only.")
    var batch: Int = 1

    @Option(help: "oneDNN (OpenMP) threads per extractor; default: 1 per inference worker in `extract`, else every CPU this process may use (cgroup quota, affinity, cores).")
    var threads: Int?

    @Option(help: "Largest accepted image, in pixels (width x height).")
    var maxPixels: Int = JPEGDecoder.Limits().maxPixels

    @Option(help: "JPEG decode: exact (every pixel, the seed's features) or reduced (libjpeg's 1/2-1/8 DCT scaling down to >= 448 px a side, then the same resize; docs/phone-photos.md). Default: exact.")
    var decode: DecodeOptions.Scale?

    @Option(help: "EXIF orientation: stored (ignored, the seed's behaviour) or exif (applied, as the phone showed the photo). Default: stored.")
    var orientation: DecodeOptions.Orientation?

    @Option(help: "For a reduced decode: the smallest side the DCT scaling may leave (default 448, twice the model's input; 896 decodes a 12 MP photo at 1/2).")
    var reducedMinSide: Int?

    /// `--decode`, `--orientation` and `--reduced-min-side` over `base` (what the command decodes by default).
    func decoding(over base: DecodeOptions = .seed) -> DecodeOptions {
        var options = base
        if let decode { options.scale = decode }
        if let reducedMinSide { options.reducedMinimumSide = reducedMinSide }
        if let orientation { options.orientation = orientation }
        return options
    }

    /// `fruits extract` and `fruits run` infer each photo as soon as it is
    /// fetched (`BatchExtraction`), one per forward pass.
    func validateForService() throws {
        guard batch == 1 else {
            throw ValidationError("--batch is 1 in extract and run (each photo goes to a worker as it arrives); larger batches are for featurize and bench extract")
        }
    }

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let reducedMinSide, !(1...4096).contains(reducedMinSide) { throw ValidationError("--reduced-min-side must be 1 to 4096") }
    }

    var weightsPath: String {
        weights ?? ProcessInfo.processInfo.environment["FRUITS_WEIGHTS"].flatMap { $0.isEmpty ? nil : $0 } ?? "models/mobilenet_v2_1.0_224.fw"
    }

    func makeExtractor(precision: Precision = .fp32) throws -> FeatureExtractor {
        let limits = JPEGDecoder.Limits(maxPixels: maxPixels)
        return try FeatureExtractor(
            weightsPath: weightsPath,
            configuration: .init(batchSize: batch, threads: threads ?? CPUBudget.current.cpus, limits: limits, precision: precision,
                                 decoding: decoding()))
    }
}

extension Precision: ExpressibleByArgument {}
extension DecodeOptions.Scale: ExpressibleByArgument {}
extension DecodeOptions.Orientation: ExpressibleByArgument {}
