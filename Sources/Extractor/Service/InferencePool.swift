import Common
import Events
import Foundation
import Synchronization

/// `workers` `FeatureExtractor`s (not thread-safe), each owned by a thread
/// of a `WorkerThreads` pool, serving one queue of forward passes, uploads'
/// first; async code awaits their results without blocking the cooperative
/// pool.
///
/// Several single-threaded workers rather than one multi-threaded extractor:
/// one OpenMP team meets at a barrier after every layer and stalls whenever the
/// host takes a vCPU away (docs/extractor.md, "How it runs"), while independent workers
/// overlap one image's decoding with another's convolutions. Dedicated threads
/// rather than a dispatch queue: OpenMP keeps a team per calling thread.
public final class InferencePool: Sendable {
    public struct Configuration: Sendable {
        /// Independent extractors; by default one per CPU this process may use.
        public var workers: Int
        /// Each worker's extractor (batch, OpenMP threads, decode limits).
        public var extractor: FeatureExtractor.Configuration
        /// The workers' nice value. Inference is throughput work: where it
        /// shares cores with what a person waits on (the broker, an answerer,
        /// the upload endpoint, this process's own Kafka threads), those run
        /// first. Alone in a container it changes nothing: nice values only
        /// order the threads of one cgroup.
        public var niceness: Int32 = 10
        /// Bytes the workers' decodes may hold at once (`DecodeAdmission`);
        /// nil: unbounded. A photo whose decode needs more is refused.
        public var decodeMemory: Int?

        public init(workers: Int = CPUBudget.current.cpus, extractor: FeatureExtractor.Configuration = .init(threads: 1)) {
            precondition(workers >= 1, "an inference pool needs at least one worker")
            self.workers = workers
            self.extractor = extractor
        }
    }

    /// Whose work it is: a person waiting (an upload) or throughput (a backfill).
    public enum Priority: Sendable {
        /// Taken before any queued backfill work.
        case interactive
        case backfill
    }

    /// Each thread owns its extractor, made on it.
    private let workers: WorkerThreads<FeatureExtractor>
    public let configuration: Configuration
    public let modelVersion: String
    public let decodeAdmission: DecodeAdmission?

    public init(weightsPath: String, configuration: Configuration) throws {
        self.configuration = configuration
        decodeAdmission = configuration.decodeMemory.map { DecodeAdmission(capacity: $0) }
        let weights = try WeightFile(path: weightsPath)  // first: its error says how to get the file
        modelVersion = try Self.modelVersion(weightsPath: weightsPath)
        let extractor = configuration.extractor
        workers = try WorkerThreads(threads: configuration.workers, name: "fruits-infer", nice: configuration.niceness,
                                    stackSize: 8 << 20) { (_: Int) throws(any Error) in
            try FeatureExtractor(weights: weights, configuration: extractor)
        }
    }

    /// Features of JPEG files, one result per input in order; forward passes of
    /// the configured batch size spread over the workers. Interactive work
    /// overtakes backfill work still queued, not the forward passes running.
    /// `decoding` overrides the extractors' configured decode options.
    public func features(ofJPEGs jpegs: [[UInt8]], priority: Priority = .backfill,
                         decoding: DecodeOptions? = nil) async throws -> [Result<[Float], ImageError>] {
        // Decodes that could never fit the budget are refused here, from their headers.
        let options = decoding ?? configuration.extractor.decoding
        var refused: [Int: ImageError] = [:]
        var admitted: [(index: Int, jpeg: [UInt8], bytes: Int)] = []
        for (index, jpeg) in jpegs.enumerated() {
            let cost = DecodeCost.of(jpeg, options: options)
            if let decodeAdmission, let cost, cost.bytes > decodeAdmission.capacity {
                refused[index] = .exceedsDecodeMemory("\(DecodeAdmission.NeverFits(cost: cost, budget: decodeAdmission.capacity))")
            } else {
                // A header that cannot be read fails the decoder before it allocates; were
                // libjpeg to read it after all, the whole budget is held, not none of it.
                admitted.append((index, jpeg, cost?.bytes ?? decodeAdmission?.capacity ?? 0))
            }
        }
        let batch = configuration.extractor.batchSize
        let chunks = stride(from: 0, to: admitted.count, by: batch).map { Array(admitted[$0..<min($0 + batch, admitted.count)]) }
        return try await withThrowingTaskGroup(of: (Int, [Result<[Float], ImageError>]).self) { group in
            for (index, chunk) in chunks.enumerated() {
                group.addTask { [self] in
                    (index, try await withCheckedThrowingContinuation { continuation in
                        workers.schedule(priority: priority == .interactive ? .interactive : .background) { [decodeAdmission] extractor in
                            continuation.resume(with: Result {
                                // A worker decodes its chunk's photos one at a time: the largest is its peak.
                                let reservation = try decodeAdmission?.reserve(bytes: chunk.map(\.bytes).max() ?? 0)
                                defer { reservation?.release() }
                                return try extractor.features(ofJPEGs: chunk.map(\.jpeg), decoding: decoding)
                            })
                        }
                    })
                }
            }
            var computed = [[Result<[Float], ImageError>]](repeating: [], count: chunks.count)
            for try await (index, result) in group { computed[index] = result }
            var results = [Result<[Float], ImageError>](repeating: .failure(.empty), count: jpegs.count)
            for (item, result) in zip(admitted, computed.flatMap { $0 }) { results[item.index] = result }
            for (index, error) in refused { results[index] = .failure(error) }
            return results
        }
    }

    /// "mobilenet_v2_1.0_224@sha256:<16 hex digits of the weight file>".
    static func modelVersion(weightsPath: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: weightsPath), options: .alwaysMapped)
        return "mobilenet_v2_1.0_224@sha256:" + EventIdentity.sha256Hex(data).prefix(16)
    }
}
