import Common
import Foundation
import Synchronization

/// Runs a `FeatureExtractor` (not thread-safe) on one dedicated thread and
/// lets async code await its results without blocking the cooperative pool.
///
/// A dedicated thread rather than a dispatch queue: OpenMP keeps a thread
/// team per calling thread, and a queue hopping between pool threads would
/// leave several teams spinning on a small machine.
public final class InferenceWorker: @unchecked Sendable {
    // `extractor` is only touched on `thread`; `jobs` is guarded by its mutex.
    private var extractor: FeatureExtractor?
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)
    public let modelVersion: String

    public init(weightsPath: String, configuration: FeatureExtractor.Configuration) throws {
        modelVersion = try Self.modelVersion(weightsPath: weightsPath)
        let thread = Thread { [self] in serve() }
        thread.name = "fruits-inference"
        thread.stackSize = 8 << 20
        thread.start()
        let made: Result<Void, any Error> = submitAndWait { [self] in
            extractor = try FeatureExtractor(weightsPath: weightsPath, configuration: configuration)
        }
        try made.get()
    }

    public func features(ofJPEGs jpegs: [[UInt8]]) async throws -> [Result<[Float], ImageError>] {
        try await withCheckedThrowingContinuation { continuation in
            submit { [self] in continuation.resume(with: Result { try extractor!.features(ofJPEGs: jpegs) }) }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    private func submitAndWait(_ body: @escaping @Sendable () throws -> Void) -> Result<Void, any Error> {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Void, any Error>>(.success(()))
        submit {
            result.withLock { $0 = Result { try body() } }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }

    /// The worker lives as long as the process; it never returns.
    private func serve() {
        while true {
            available.wait()
            let job = jobs.withLock { $0.removeFirst() }
            job()
        }
    }

    /// "mobilenet_v2_1.0_224@sha256:<16 hex digits of the weight file>".
    static func modelVersion(weightsPath: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: weightsPath), options: .alwaysMapped)
        return "mobilenet_v2_1.0_224@sha256:" + EventIdentity.sha256Hex(data).prefix(16)
    }
}
