import Common
import Dispatch
import Synchronization

/// The process-wide decode memory budget: an inference worker reserves a
/// decode's `DecodeCost` before it decodes, and waits while the decodes in
/// progress leave too little, so a batch of large photos decodes one after
/// another instead of OOM-killing the pod. A decode larger than the whole
/// budget is refused at once (`reserve` throws `neverFits`): waiting could not
/// help, and its image is dead-lettered.
///
/// Admission happens on the workers' own threads, when a decode is about to
/// start, not when its image is queued: queued backfill work holds no budget,
/// so an upload never waits behind it. Waiters are served in arrival order (a
/// large decode is not overtaken forever by small ones); each wait is bounded.
public final class DecodeAdmission: Sendable {
    public struct NeverFits: Error, Equatable, CustomStringConvertible {
        public let cost: DecodeCost
        public let budget: Int
        public var description: String {
            "decoding it needs \(cost), above the decode memory budget of \((budget + 999_999) / 1_000_000) MB (--decode-memory)"
        }
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public let bytes: Int
        public let waited: Duration
        public var description: String {
            "a decode of \(bytes) bytes waited \(waited) for the decode memory budget: decodes in progress never finished"
        }
    }

    /// Reserved bytes, released once (`release()` or deinit) when the decode is done.
    public final class Reservation: Sendable {
        public let bytes: Int
        private let admission: DecodeAdmission
        private let released = Atomic<Bool>(false)

        fileprivate init(bytes: Int, admission: DecodeAdmission) {
            self.bytes = bytes
            self.admission = admission
        }

        public func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            admission.give(back: bytes)
        }

        deinit { release() }
    }

    private struct Waiter {
        let id: Int
        let bytes: Int
        let granted: DispatchSemaphore
    }

    private struct State {
        var inUse = 0
        var peak = 0
        var nextID = 0
        var waiters: [Waiter] = []

        mutating func take(_ bytes: Int) {
            inUse += bytes
            peak = max(peak, inUse)
        }
    }

    public let capacity: Int
    public let maxWait: Duration
    private let state = Mutex(State())

    public init(capacity: Int, maxWait: Duration = .seconds(300)) {
        precondition(capacity > 0, "a decode budget needs a positive capacity")
        precondition(maxWait <= .seconds(86_400), "a decode waits at most a day")
        self.capacity = capacity
        self.maxWait = maxWait
    }

    /// Bytes reserved now, and the most ever reserved at once.
    public var usage: (inUse: Int, peak: Int) { state.withLock { ($0.inUse, $0.peak) } }

    /// Decodes waiting for room now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Whether a decode of this cost can ever be admitted.
    public func check(_ cost: DecodeCost) throws(NeverFits) {
        guard cost.bytes <= capacity else { throw NeverFits(cost: cost, budget: capacity) }
    }

    /// Reserves `cost` for a decode, blocking this (worker) thread until the
    /// budget has room, at most `maxWait`. Never call it from the cooperative pool.
    public func reserve(_ cost: DecodeCost) throws -> Reservation {
        try check(cost)
        return try reserve(bytes: cost.bytes)
    }

    func reserve(bytes: Int) throws -> Reservation {
        precondition(bytes >= 0 && bytes <= capacity)
        let waiter: Waiter? = state.withLock { state in
            if state.waiters.isEmpty, state.inUse + bytes <= capacity {
                state.take(bytes)
                return nil
            }
            state.nextID += 1
            let waiter = Waiter(id: state.nextID, bytes: bytes, granted: DispatchSemaphore(value: 0))
            state.waiters.append(waiter)
            return waiter
        }
        guard let waiter else { return Reservation(bytes: bytes, admission: self) }
        if waiter.granted.wait(timeout: .now() + .nanoseconds(Int(maxWait.nanoseconds))) == .timedOut {
            let stillWaiting = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiter.id }) else { return false }
                state.waiters.remove(at: index)
                grant(&state)  // the next waiters may fit now that this one left the head
                return true
            }
            if stillWaiting { throw TimedOut(bytes: bytes, waited: maxWait) }
        }
        return Reservation(bytes: bytes, admission: self)
    }

    fileprivate func give(back bytes: Int) {
        state.withLock { state in
            state.inUse -= bytes
            grant(&state)
        }
    }

    /// Admits waiters in order while the head fits.
    private func grant(_ state: inout State) {
        while let head = state.waiters.first, state.inUse + head.bytes <= capacity {
            state.waiters.removeFirst()
            state.take(head.bytes)
            head.granted.signal()
        }
    }
}
