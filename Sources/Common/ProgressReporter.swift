import Foundation
import Synchronization

/// Reports "done of total" with rate and ETA: a redrawn bar on a terminal,
/// a plain line every few seconds otherwise (logs, CI).
public final class ProgressReporter: Sendable {
    private struct State {
        var done = 0
        var total: Int
        var lastPrint: ContinuousClock.Instant
    }

    public let label: String
    private let started = ContinuousClock.now
    private let state: Mutex<State>
    private let interactive: Bool

    public init(total: Int, label: String, interactive: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.interactive = interactive
        self.state = Mutex(State(total: total, lastPrint: .now))
    }

    public var total: Int { state.withLock { $0.total } }

    /// More work became known (a listing that goes on page by page).
    public func expect(_ more: Int) {
        state.withLock { $0.total += more }
    }

    public func advance(by count: Int = 1) {
        record { $0 += count }
    }

    /// Sets how many are done (never backwards), for counts kept elsewhere.
    public func update(done: Int) {
        record { $0 = max($0, done) }
    }

    private func record(_ change: (inout Int) -> Void) {
        let line: String? = state.withLock { state in
            change(&state.done)
            let now = ContinuousClock.now
            let interval: Duration = interactive ? .milliseconds(100) : .seconds(5)
            guard now - state.lastPrint >= interval || state.done == state.total else { return nil }
            state.lastPrint = now
            return render(done: state.done, total: state.total, elapsed: now - started)
        }
        if let line { emit(line) }
    }

    public func finish() {
        let (done, total) = state.withLock { ($0.done, $0.total) }
        emit(render(done: done, total: total, elapsed: .now - started))
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func render(done: Int, total: Int, elapsed: Duration) -> String {
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 1e-9)
        let rate = Double(done) / seconds
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = interactive ? "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " : ""
        return String(format: "%@ %@%d/%d (%.0f%%) %.0f/s ETA %.0fs", label, bar, done, total, fraction * 100, rate, eta)
    }

    private func emit(_ line: String) {
        FileHandle.standardError.write(Data((interactive ? "\r" + line : line + "\n").utf8))
    }
}
