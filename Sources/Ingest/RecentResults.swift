import Events
import Foundation
import Synchronization

/// The answers this upload endpoint can give: the latest result of the most
/// recent images (read from the results topic, whichever replica took the
/// upload), and the ids this replica accepted that have none yet.
///
/// Uploads and everything else (a backfill's answers) are kept apart, each
/// first-in first-out within its own bound: `capacity` uploads and
/// `otherCapacity` others. A backfill of any size cannot push a person's
/// upload out; a forgotten id answers 404 like one never seen. A waiter for
/// an id is resumed the moment its result is recorded.
///
/// Memory: about 1 KiB per image with a 64-component model, so the default
/// 50,000 uploads and 10,000 others hold about 60 MiB.
public final class RecentResults: Sendable {
    public enum Answer: Sendable {
        case pending(label: String)
        case result(Fruits_V1_ImageResult)
    }

    /// Ids in order of first sight, oldest first, within a bound.
    private struct Pool {
        let capacity: Int
        var answers: [String: Answer] = [:]
        var order: [String] = []
        var head = 0

        mutating func insert(_ imageID: String, _ answer: Answer) {
            if answers.updateValue(answer, forKey: imageID) != nil { return }
            order.append(imageID)
            while answers.count > capacity {
                answers[order[head]] = nil
                head += 1
            }
            // Drop the forgotten prefix now and then rather than on every eviction.
            if head > 1_024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    private struct State {
        var uploads: Pool
        var others: Pool
        var waiters: [String: [UInt64: CheckedContinuation<Fruits_V1_ImageResult?, Never>]] = [:]
        var nextWaiter: UInt64 = 0

        func answer(_ imageID: String) -> Answer? { uploads.answers[imageID] ?? others.answers[imageID] }
    }

    public let capacity: Int
    public let otherCapacity: Int
    private let state: Mutex<State>

    public static let defaultCapacity = 50_000
    public static let defaultOtherCapacity = 10_000

    public init(capacity: Int = defaultCapacity, otherCapacity: Int = defaultOtherCapacity) {
        precondition(capacity >= 1 && otherCapacity >= 1)
        self.capacity = capacity
        self.otherCapacity = otherCapacity
        state = Mutex(State(uploads: Pool(capacity: capacity), others: Pool(capacity: otherCapacity)))
    }

    public var count: Int { state.withLock { $0.uploads.answers.count + $0.others.answers.count } }

    public subscript(imageID: String) -> Answer? { state.withLock { $0.answer(imageID) } }

    /// An upload this replica accepted: pending until its result arrives.
    public func accepted(_ imageID: String, label: String) {
        state.withLock { state in
            guard state.answer(imageID) == nil else { return }
            state.uploads.insert(imageID, .pending(label: label))
        }
    }

    public func record(_ result: Fruits_V1_ImageResult) {
        let waiting = state.withLock { state in
            if result.source == .upload || state.uploads.answers[result.imageID] != nil {
                state.uploads.insert(result.imageID, .result(result))
            } else {
                state.others.insert(result.imageID, .result(result))
            }
            return state.waiters.removeValue(forKey: result.imageID)
        }
        if let waiting { for continuation in waiting.values { continuation.resume(returning: result) } }
    }

    /// The image's result, waiting up to `timeout` for it; nil if none came.
    public func result(of imageID: String, waitingUpTo timeout: Duration) async -> Fruits_V1_ImageResult? {
        await withCheckedContinuation { continuation in
            let ticket: UInt64? = state.withLock { state in
                if case .result(let result) = state.answer(imageID) {
                    continuation.resume(returning: result)
                    return nil
                }
                state.nextWaiter += 1
                state.waiters[imageID, default: [:]][state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let ticket else { return }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                let expired = state.withLock { state -> CheckedContinuation<Fruits_V1_ImageResult?, Never>? in
                    let continuation = state.waiters[imageID]?.removeValue(forKey: ticket)
                    if state.waiters[imageID]?.isEmpty == true { state.waiters[imageID] = nil }
                    return continuation
                }
                expired?.resume(returning: nil)
            }
        }
    }
}
