import Foundation
import Synchronization

/// Threads for calls that block (file writes with fsync, S3 through
/// libcurl), so that async code never parks Swift's cooperative pool, which
/// has one thread per core: a slow disk or bucket must not stall every
/// other task of the process.
public final class BlockingIOPool: Sendable {
    /// Sized for I/O latency, not for CPUs: these threads mostly wait.
    public static let shared = BlockingIOPool(threads: 16, name: "fruits-blocking-io")

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)

    private init(threads: Int, name: String) {
        for index in 0..<threads {
            let thread = Thread { [self] in
                while true {
                    available.wait()
                    jobs.withLock { $0.removeFirst() }()
                }
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            jobs.withLock { $0.append { continuation.resume(with: Result(catching: body)) } }
            available.signal()
        }
    }
}
