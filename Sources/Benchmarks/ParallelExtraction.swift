import Common
import Extractor
import Foundation
import Synchronization

/// Runs several independent extractors, one per thread, each with its own
/// oneDNN engine and OpenMP team of `configuration.threads`. On a small machine,
/// two single-threaded workers avoid the per-layer barrier of one two-thread
/// team and overlap one worker's JPEG decoding with the other's convolutions.
public enum ParallelExtraction {
    /// Decode+resize+model throughput of `workers` extractors over `jpegs` for `seconds`.
    public static func imagesPerSecond(
        weights: WeightFile, jpegs: [[UInt8]], workers: Int, configuration: FeatureExtractor.Configuration, seconds: Double
    ) throws -> Double {
        let batchSize = configuration.batchSize
        let processed = Mutex<(images: Int, error: String?)>((0, nil))
        let ready = DispatchSemaphore(value: 0)
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for worker in 0..<workers {
            done.enter()
            Thread.start(named: "fruits-bench-\(worker)", stackSize: 8 << 20) {
                defer { done.leave() }
                do {
                    let extractor = try FeatureExtractor(weights: weights, configuration: configuration)
                    _ = try extractor.features(ofJPEGs: Array(jpegs.prefix(batchSize)))  // warm-up
                    ready.signal()
                    start.wait()
                    var next = worker * batchSize
                    var images = 0
                    let began = DispatchTimeNanos.now()
                    while Double(DispatchTimeNanos.now() - began) / 1e9 < seconds {
                        let chunk = (0..<batchSize).map { jpegs[(next + $0) % jpegs.count] }
                        next += workers * batchSize
                        _ = try extractor.features(ofJPEGs: chunk)
                        images += chunk.count
                    }
                    processed.withLock { $0.images += images }
                } catch {
                    processed.withLock { $0.error = "\(error)" }
                    ready.signal()
                }
            }
        }
        for _ in 0..<workers { ready.wait() }
        let began = DispatchTimeNanos.now()
        for _ in 0..<workers { start.signal() }
        done.wait()
        let elapsed = Double(DispatchTimeNanos.now() - began) / 1e9
        let result = processed.withLock { $0 }
        if let error = result.error { throw ParallelExtractionError(message: error) }
        return Double(result.images) / elapsed
    }
}

struct ParallelExtractionError: Error, CustomStringConvertible {
    let message: String
    var description: String { "a benchmark worker failed: \(message)" }
}
