#if canImport(Glibc)
import Glibc
#endif

/// A step of a flush where a crash test stops the reducer with SIGKILL, the
/// way a killed pod dies: nothing after it runs, no cleanup, no goodbye.
/// Written `after-id-manifests:2` on the command line (`fruits reduce --crash-at`).
public struct CrashPoint: Sendable, Equatable {
    public enum Step: String, Sendable, CaseIterable {
        /// Every file of the flush is written; the checkpoint is not.
        case afterIDManifests = "after-id-manifests"
    }

    public let step: Step
    public let flush: Int

    public init(step: Step, flush: Int) {
        self.step = step
        self.flush = flush
    }

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let step = Step(rawValue: String(text[..<colon])),
              let flush = Int(text[text.index(after: colon)...]), flush >= 1
        else { return nil }
        self.init(step: step, flush: flush)
    }

    func reached(_ step: Step, flush: Int) {
        if step == self.step, flush == self.flush { kill(getpid(), SIGKILL) }
    }
}
