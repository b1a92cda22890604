import Events
import Foundation
import Synchronization

/// The answers this upload endpoint can give: the latest result of the most
/// recent images (read from the results topic, whichever replica took the
/// upload), and the ids this replica accepted that have none yet. At most
/// `capacity` images are kept; the oldest by first sight are forgotten
/// first, and a forgotten id answers 404 like one never seen. A waiter for
/// an id is resumed the moment its result is recorded.
///
/// Memory: about 1 KiB per image with a 64-component model, so the default
/// 50,000 images hold about 50 MiB.
public final class RecentResults: Sendable {
    public enum Answer: Sendable {
        case pending(label: String)
        case result(Fruits_V1_ImageResult)
    }

    private struct State {
        var answers: [String: Answer] = [:]
        /// Ids in order of first sight; `head` is the oldest still held.
        var order: [String] = []
        var head = 0
        var waiters: [String: [UInt64: CheckedContinuation<Fruits_V1_ImageResult?, Never>]] = [:]
        var nextWaiter: UInt64 = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    public static let defaultCapacity = 50_000

    public init(capacity: Int = defaultCapacity) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    public var count: Int { state.withLock { $0.answers.count } }

    public subscript(imageID: String) -> Answer? { state.withLock { $0.answers[imageID] } }

    /// An upload this replica accepted: pending until its result arrives.
    public func accepted(_ imageID: String, label: String) {
        state.withLock { state in
            guard state.answers[imageID] == nil else { return }
            insert(imageID, .pending(label: label), into: &state)
        }
    }

    public func record(_ result: Fruits_V1_ImageResult) {
        let waiting = state.withLock { state in
            if state.answers[result.imageID] == nil {
                insert(result.imageID, .result(result), into: &state)
            } else {
                state.answers[result.imageID] = .result(result)
            }
            return state.waiters.removeValue(forKey: result.imageID)
        }
        if let waiting { for continuation in waiting.values { continuation.resume(returning: result) } }
    }

    /// The image's result, waiting up to `timeout` for it; nil if none came.
    public func result(of imageID: String, waitingUpTo timeout: Duration) async -> Fruits_V1_ImageResult? {
        await withCheckedContinuation { continuation in
            let ticket: UInt64? = state.withLock { state in
                if case .result(let result) = state.answers[imageID] {
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

    private func insert(_ imageID: String, _ answer: Answer, into state: inout State) {
        state.answers[imageID] = answer
        state.order.append(imageID)
        while state.answers.count > capacity {
            state.answers[state.order[state.head]] = nil
            state.head += 1
        }
        // Drop the forgotten prefix now and then rather than on every eviction.
        if state.head > 1_024 && state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }
}
