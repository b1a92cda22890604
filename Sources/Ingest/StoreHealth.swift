import Logging
import ObjectStorage
import Synchronization

/// Whether the photo store takes writes, as `/healthz` reports it: ready
/// until a write fails, then not ready until a probe write succeeds. The
/// probe runs when a health check finds the store failing (at most every 5
/// s, one at a time), since a replica taken out of rotation gets no uploads
/// that could prove it well again.
final class StoreHealth: Sendable {
    /// A small object the endpoint writes to prove it can: under `uploads/`,
    /// the one prefix its role may write.
    static let probeKey = "uploads/.fruits-ready"

    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    private struct State {
        var failing = false
        var lastProbe: ContinuousClock.Instant?
        var probing = false
    }

    private let store: any ObjectStore
    private let logger: Logger
    private let state = Mutex(State())

    init(store: any ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func probe() async throws {
        try await store.put(Self.probeKey, Array("ready\n".utf8), contentType: "text/plain")
    }

    func succeeded() { state.withLock { $0.failing = false } }

    func failed(_ error: any Error) {
        let wasFailing = state.withLock { state in defer { state.failing = true }; return state.failing }
        if !wasFailing { logger.error("the photo store refused a write; not ready until it takes one", metadata: ["error": "\(error)"]) }
    }

    /// nil when ready, else what a health check may tell (no detail: the
    /// log has it).
    func check() async -> String? {
        let due = state.withLock { state -> Bool in
            guard state.failing, !state.probing, state.lastProbe.map({ .now - $0 >= .seconds(5) }) ?? true else { return false }
            state.probing = true
            state.lastProbe = .now
            return true
        }
        if due {
            do { try await probe(); succeeded() } catch { failed(error) }
            state.withLock { $0.probing = false }
        }
        return state.withLock { $0.failing } ? "the photo store refuses writes" : nil
    }
}
