/// The batches a lane of the extractor has started (fetching or inferring)
/// and not yet delivered, shared by the task that reads records and the one
/// that delivers features. At most `capacity` are started and undelivered
/// at once, which bounds the photos in memory; the reader waits for room.
/// They are delivered in the order read, so their commits are too.
actor BatchesInHand<Batch: Sendable> {
    private let capacity: Int
    private var waiting: [Batch] = []
    /// Taken by the deliverer and not yet released.
    private var delivering = 0
    private var finished = false
    private var roomWaiter: CheckedContinuation<Void, Never>?
    private var batchWaiter: CheckedContinuation<Batch?, Never>?

    init(capacity: Int) {
        precondition(capacity >= 1, "room for at least one batch")
        self.capacity = capacity
    }

    /// Returns once another batch may be started (or the queue is finished).
    func waitForRoom() async {
        while waiting.count + delivering >= capacity && !finished {
            await withCheckedContinuation { roomWaiter = $0 }
        }
    }

    func add(_ batch: Batch) {
        waiting.append(batch)
        if let waiter = batchWaiter {
            batchWaiter = nil
            waiter.resume(returning: take())
        }
    }

    /// The next batch to deliver, without waiting; nil when none is there.
    func nextIfAny() -> Batch? {
        waiting.isEmpty ? nil : take()
    }

    /// The next batch to deliver, waiting for one; nil once finished and empty.
    func next() async -> Batch? {
        if !waiting.isEmpty { return take() }
        if finished { return nil }
        return await withCheckedContinuation { batchWaiter = $0 }
    }

    /// A batch taken by `next` is delivered: its room is free.
    func release() {
        delivering -= 1
        wakeReader()
    }

    /// No batch will be added; `next` answers nil once the queue is empty,
    /// and a reader waiting for room goes on (to find it must stop).
    func finish() {
        finished = true
        wakeReader()
        if waiting.isEmpty, let waiter = batchWaiter {
            batchWaiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// Runs `body` (the reader or the deliverer), then finishes the queue,
    /// whether `body` returned or threw.
    nonisolated func finishing(_ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            await finish()
            throw error
        }
        await finish()
    }

    /// Batches not delivered, for cancelling their work.
    func drain() -> [Batch] {
        defer { waiting.removeAll() }
        return waiting
    }

    private func take() -> Batch {
        delivering += 1
        return waiting.removeFirst()
    }

    private func wakeReader() {
        roomWaiter?.resume()
        roomWaiter = nil
    }
}
