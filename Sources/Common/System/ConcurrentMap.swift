/// Async work over many items, a bounded number at a time.
public enum ConcurrentMap {
    /// `body` over `items`, at most `parallelism` at once, results in order;
    /// the first error cancels the rest and is thrown.
    public static func map<T: Sendable, R: Sendable>(
        _ items: [T], parallelism: Int, _ body: @escaping @Sendable (T) async throws -> R
    ) async throws -> [R] {
        precondition(parallelism >= 1, "at least one at a time")
        return try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            func startNext() {
                guard next < items.count else { return }
                let index = next, item = items[index]
                next += 1
                group.addTask { (index, try await body(item)) }
            }
            for _ in 0..<min(parallelism, items.count) { startNext() }
            while let (index, result) = try await group.next() {
                results[index] = result
                startNext()
            }
            return results.map { $0! }
        }
    }

    /// Runs `jobs` side by side; the first error cancels the others and is thrown.
    public static func run(_ jobs: [@Sendable () async throws -> Void]) async throws {
        _ = try await map(jobs, parallelism: max(jobs.count, 1)) { try await $0() }
    }
}
