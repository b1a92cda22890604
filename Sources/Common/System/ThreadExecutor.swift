/// A serial executor on one thread of its own. An actor that runs on it
/// (`unownedExecutor`) does all its work there: blocking calls and long
/// CPU-heavy steps included, without parking Swift's cooperative pool, and
/// its state is isolated by the compiler rather than by a comment.
public final class ThreadExecutor: SerialExecutor, Sendable {
    private let thread: ThreadPool

    /// `nice` above 0 makes the thread yield to the rest of the machine.
    public init(name: String, nice: Int32 = 0) {
        thread = ThreadPool(threads: 1, name: name, nice: nice)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        thread.submit { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
