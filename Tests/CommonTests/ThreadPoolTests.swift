import Foundation
import Synchronization
import Testing

@testable import Common

@Suite("Thread pool: priorities, and workers owned by their threads")
struct ThreadPoolTests {
    /// With its one thread busy, the pool takes an interactive job before
    /// the background jobs queued ahead of it, and those in their order.
    @Test func interactiveJobsOvertakeQueuedBackgroundJobs() throws {
        let pool = ThreadPool(threads: 1, name: "fruits-test")
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        pool.submit {
            started.signal()
            _ = release.wait(timeout: .now() + 10)
        }
        try #require(started.wait(timeout: .now() + 10) == .success, "the pool's thread started the first job within 10 s")
        let order = Mutex<[String]>([])
        let done = DispatchGroup()
        for (name, priority) in [("first", ThreadPool.Priority.background), ("second", .background), ("upload", .interactive)] {
            done.enter()
            pool.submit(priority: priority) {
                order.withLock { $0.append(name) }
                done.leave()
            }
        }
        release.signal()
        #expect(done.wait(timeout: .now() + 10) == .success, "the three jobs ran within 10 s")
        #expect(order.withLock { $0 } == ["upload", "first", "second"])
    }

    /// Each thread makes its worker and only that thread uses it.
    @Test func eachThreadUsesTheWorkerItMade() async throws {
        let pool = WorkerThreads(threads: 3, name: "fruits-test") { (index: Int) throws(Never) in
            Worker(index: index, thread: Self.threadName())
        }
        let seen = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<60 {
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        pool.schedule { worker in continuation.resume(returning: worker.thread == Self.threadName()) }
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(seen.count == 60 && seen.allSatisfy { $0 }, "every job ran on the thread that made its worker")
    }

    @Test func aWorkerThatCannotBeMadeFailsThePool() {
        struct NoWeights: Error {}
        #expect(throws: NoWeights.self) {
            _ = try WorkerThreads(threads: 2, name: "fruits-test") { (index: Int) throws(NoWeights) -> Int in
                if index == 1 { throw NoWeights() }
                return index
            }
        }
    }

    final class Worker {
        let index: Int
        let thread: String?

        init(index: Int, thread: String?) {
            self.index = index
            self.thread = thread
        }
    }

    static func threadName() -> String? {
        try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
    }
}
