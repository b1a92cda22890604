import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread for long, CPU-heavy steps that nobody waits on interactively
/// (a reducer's flush and model solve), at a lower scheduling priority
/// (nice 10): on a busy machine the kernel runs the latency-sensitive
/// threads first (an answerer in the same process, the broker, the upload
/// endpoint) and this work gets the idle time. The thread ends with its owner.
public final class BackgroundThread: Sendable {
    private final class Jobs: Sendable {
        let queue = Mutex<[(@Sendable () -> Void)?]>([])
        let available = DispatchSemaphore(value: 0)

        func add(_ job: (@Sendable () -> Void)?) {
            queue.withLock { $0.append(job) }
            available.signal()
        }
    }

    private let jobs = Jobs()

    public init(name: String, nice: Int32 = 10) {
        let thread = Thread { [jobs] in
            ThreadPriority.lower(to: nice)
            while true {
                jobs.available.wait()
                guard let job = jobs.queue.withLock({ $0.removeFirst() }) else { return }
                job()
            }
        }
        thread.name = name
        thread.start()
    }

    deinit { jobs.add(nil) }

    /// Runs `body` on the thread, after the jobs given before it.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            jobs.add { continuation.resume(with: Result(catching: body)) }
        }
    }
}

public enum ThreadPriority {
    /// Sets the calling thread's nice value (Linux: per thread, `who` 0 is
    /// the caller). Lowering needs no privilege; a failure leaves it as it was.
    public static func lower(to nice: Int32) {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
    }
}
