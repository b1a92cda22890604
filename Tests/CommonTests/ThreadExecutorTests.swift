import Foundation
import Testing

@testable import Common

@Suite("Thread executor: an actor on a thread of its own")
struct ThreadExecutorTests {
    actor Counter {
        private let executor = ThreadExecutor(name: "fruits-test")
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        private(set) var count = 0

        func increment() -> String? {
            count += 1
            return try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        }
    }

    @Test func theActorRunsOnItsThreadOneJobAtATime() async {
        let counter = Counter()
        let threads = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<2_000 { group.addTask { await counter.increment() } }
            return await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(threads == ["fruits-test\n"], "one thread, named as the executor (the kernel's name for it)")
        #expect(await counter.count == 2_000)
    }
}
