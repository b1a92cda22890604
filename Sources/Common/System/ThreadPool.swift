import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Threads of its own for work that must not run on Swift's cooperative
/// pool (one thread per core): calls that block, and long CPU-heavy steps.
/// Jobs run in the order given; with one thread, one after the other. The
/// threads end with the pool.
public final class ThreadPool: Sendable {
    private final class Jobs: Sendable {
        let queue = Mutex<[(@Sendable () -> Void)?]>([])
        let available = DispatchSemaphore(value: 0)

        func add(_ job: (@Sendable () -> Void)?) {
            queue.withLock { $0.append(job) }
            available.signal()
        }
    }

    private let jobs = Jobs()
    private let threads: Int

    /// `nice` above 0 makes the threads yield to the rest of the machine:
    /// for throughput work nobody waits on interactively.
    public init(threads: Int, name: String, nice: Int32 = 0) {
        precondition(threads >= 1, "a thread pool needs a thread")
        self.threads = threads
        for index in 0..<threads {
            Thread.start(named: threads == 1 ? name : "\(name)-\(index)") { [jobs] in
                if nice != 0 { ThreadPriority.lower(to: nice) }
                while true {
                    jobs.available.wait()
                    guard let job = jobs.queue.withLock({ $0.removeFirst() }) else { return }
                    job()
                }
            }
        }
    }

    deinit { for _ in 0..<threads { jobs.add(nil) } }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Queues `job` and returns at once.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.add(job)
    }
}

/// Threads for calls that block (file system calls with fsync, librdkafka's
/// synchronous commits and metadata requests), so that async code never
/// parks the cooperative pool: a slow disk or broker must not stall every
/// other task of the process.
public enum BlockingIOPool {
    /// Sized for I/O latency, not for CPUs: these threads mostly wait.
    public static let shared = ThreadPool(threads: 16, name: "fruits-io")
}

public enum ThreadPriority {
    /// Sets the calling thread's nice value (Linux: per thread, `who` 0 is
    /// the caller). Lowering needs no privilege; a failure leaves it as it was.
    public static func lower(to nice: Int32) {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
    }
}
