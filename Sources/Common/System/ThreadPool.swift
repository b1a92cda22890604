import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Threads of its own for work that must not run on Swift's cooperative
/// pool (one thread per core): calls that block, and long CPU-heavy steps.
/// Each thread may own a `Worker` made on it, that no other thread touches
/// (the inference pool's extractors); a `ThreadPool`'s threads own nothing.
/// Jobs run in the order given, except that interactive jobs overtake the
/// background jobs still queued (never one already running); with one
/// thread, one after the other. The threads end with the pool, once the
/// jobs queued before are done.
public final class WorkerThreads<Worker>: Sendable {
    /// Whose job it is: a person waiting, or throughput nobody waits on.
    public enum Priority: Sendable {
        case interactive
        case background
    }

    public typealias Job = @Sendable (Worker) -> Void

    private let jobs = QueuedJobs<Job>()
    private let threads: Int

    /// `nice` above 0 makes the threads yield to the rest of the machine:
    /// for throughput work nobody waits on interactively. Each thread makes
    /// its worker first (`makeWorker(index)`), and the pool is ready once
    /// they all did; the first that fails fails the pool.
    public init<Failure: Error>(
        threads: Int, name: String, nice: Int32 = 0, stackSize: Int? = nil,
        makeWorker: @escaping @Sendable (Int) throws(Failure) -> Worker
    ) throws(Failure) {
        precondition(threads >= 1, "a thread pool needs a thread")
        self.threads = threads
        let failures = Mutex<[Failure]>([])
        let ready = DispatchGroup()
        for index in 0..<threads {
            ready.enter()
            Thread.start(named: threads == 1 ? name : "\(name)-\(index)", stackSize: stackSize) { [jobs] in
                if nice != 0 { ThreadPriority.lower(to: nice) }
                let worker: Worker
                do throws(Failure) {
                    worker = try makeWorker(index)
                } catch {
                    failures.withLock { $0.append(error) }
                    ready.leave()
                    return
                }
                ready.leave()
                while let job = jobs.next() { job(worker) }
            }
        }
        ready.wait()
        if let failure = failures.withLock({ $0.first }) { throw failure }
    }

    deinit { jobs.stop(threads) }

    /// Queues `job`, to run with its thread's worker, and returns at once.
    public func schedule(priority: Priority = .background, _ job: @escaping Job) {
        jobs.add(job, first: priority == .interactive)
    }
}

/// A pool whose threads own nothing.
public typealias ThreadPool = WorkerThreads<Void>

extension WorkerThreads where Worker == Void {
    public convenience init(threads: Int, name: String, nice: Int32 = 0) {
        self.init(threads: threads, name: name, nice: nice) { (_: Int) throws(Never) in () }
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(priority: Priority = .background, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(priority: priority) { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Queues `job` and returns at once.
    public func submit(priority: Priority = .background, _ job: @escaping @Sendable () -> Void) {
        schedule(priority: priority) { (_: Void) in job() }
    }
}

/// The jobs waiting for a thread, interactive ones first. A wake-up that
/// finds none tells its thread to end.
private final class QueuedJobs<Job: Sendable>: Sendable {
    private let queues = Mutex<(interactive: [Job], background: [Job])>(([], []))
    private let available = DispatchSemaphore(value: 0)

    func add(_ job: Job, first: Bool) {
        queues.withLock { first ? $0.interactive.append(job) : $0.background.append(job) }
        available.signal()
    }

    func stop(_ threads: Int) {
        for _ in 0..<threads { available.signal() }
    }

    /// The next job, waiting for one; nil once the pool is gone.
    func next() -> Job? {
        available.wait()
        return queues.withLock { queues in
            if !queues.interactive.isEmpty { return queues.interactive.removeFirst() }
            if !queues.background.isEmpty { return queues.background.removeFirst() }
            return nil
        }
    }
}

/// Threads for calls that block (file system calls with fsync, reads of
/// local files), so that async code never parks the cooperative pool: a slow
/// disk must not stall every other task of the process. The Kafka module
/// has threads of its own (`KafkaThreads`).
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
