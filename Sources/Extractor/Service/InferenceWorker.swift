import Common
import Dispatch
import Foundation

/// Confines a `FeatureExtractor` (not thread-safe) to one serial queue and
/// lets async code await its results without blocking the cooperative pool.
public final class InferenceWorker: @unchecked Sendable {
    // `extractor` is only touched on `queue`.
    private let extractor: FeatureExtractor
    private let queue = DispatchQueue(label: "fruits-inference")
    public let modelVersion: String

    public init(weightsPath: String, configuration: FeatureExtractor.Configuration) throws {
        // OpenMP's thread count is per calling thread: set it where inference runs.
        let made: Result<FeatureExtractor, any Error> = queue.sync {
            Result { try FeatureExtractor(weightsPath: weightsPath, configuration: configuration) }
        }
        extractor = try made.get()
        modelVersion = try Self.modelVersion(weightsPath: weightsPath)
    }

    public func features(ofJPEGs jpegs: [[UInt8]]) async throws -> [Result<[Float], ImageError>] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result { try extractor.features(ofJPEGs: jpegs) })
            }
        }
    }

    /// "mobilenet_v2_1.0_224@sha256:<16 hex digits of the weight file>".
    static func modelVersion(weightsPath: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: weightsPath), options: .alwaysMapped)
        return "mobilenet_v2_1.0_224@sha256:" + EventIdentity.sha256Hex(data).prefix(16)
    }
}
