/// The bytes of fetched photos the extractor may hold at once, shared by its
/// lanes. A request reserves the object size limit before it starts (its size
/// is unknown until it arrives), keeps only the bytes it received once it
/// has, and gives them back when its image has been decoded: so requests in
/// flight and photos waiting for a worker together stay within the budget.
///
/// A photo holds its bytes only until its own decode, which needs nothing
/// from this budget, so waiting here always ends; each wait is still bounded.
/// Uploads' fetches are served first, then the backfill's, each in arrival
/// order: a person waits for an upload, so it waits only for bytes to come
/// back, never behind the backfill's queue.
actor FetchBudget {
    struct TimedOut: Error, CustomStringConvertible {
        let bytes: Int
        let waited: Duration
        var description: String {
            "a fetch of up to \(bytes) bytes waited \(waited) for the fetch memory budget: photos in hand were never decoded"
        }
    }

    private struct Waiter {
        let id: Int
        let bytes: Int
        let isUpload: Bool
        let continuation: CheckedContinuation<Void, any Error>
    }

    nonisolated let capacity: Int
    nonisolated let maxWait: Duration
    private var inUse = 0
    private(set) var peak = 0
    private var nextID = 0
    private var waiters: [Waiter] = []

    init(capacity: Int, maxWait: Duration = .seconds(300)) {
        precondition(capacity > 0, "a fetch budget needs a positive capacity")
        self.capacity = capacity
        self.maxWait = maxWait
    }

    /// Waits until `bytes` fit (at most `maxWait`; cancellation ends the wait
    /// too), behind earlier uploads only when `isUpload`.
    func acquire(_ bytes: Int, isUpload: Bool = false) async throws {
        precondition(bytes >= 0 && bytes <= capacity, "a reservation larger than the fetch budget could never be granted")
        let ahead = isUpload ? waiters.prefix { $0.isUpload }.count : waiters.count
        if ahead == 0, inUse + bytes <= capacity {
            take(bytes)
            return
        }
        nextID += 1
        let id = nextID
        let timer = Task { [maxWait] in
            try await Task.sleep(for: maxWait)
            self.expire(id, error: TimedOut(bytes: bytes, waited: maxWait))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.insert(Waiter(id: id, bytes: bytes, isUpload: isUpload, continuation: continuation),
                               at: isUpload ? waiters.prefix { $0.isUpload }.count : waiters.count)
            }
        } onCancel: {
            Task { await self.expire(id, error: CancellationError()) }
        }
    }

    /// Gives back part or all of a reservation.
    func release(_ bytes: Int) {
        precondition(bytes >= 0 && bytes <= inUse, "released more than was reserved")
        inUse -= bytes
        grant()
    }

    var usage: (inUse: Int, peak: Int) { (inUse, peak) }

    /// Fetches waiting for room now.
    var waiting: Int { waiters.count }

    private func expire(_ id: Int, error: any Error) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: error)
        grant()
    }

    private func grant() {
        while let head = waiters.first, inUse + head.bytes <= capacity {
            waiters.removeFirst()
            take(head.bytes)
            head.continuation.resume()
        }
    }

    private func take(_ bytes: Int) {
        inUse += bytes
        peak = max(peak, inUse)
    }
}
