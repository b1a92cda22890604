import Dispatch
import Foundation

/// Ends a worker process when the process that started it is gone.
///
/// `fruits run` starts its extractors with `FRUITS_EXIT_WITH_PARENT=<its pid>`.
/// If it dies (even by SIGKILL), the embedded broker died with it, so the
/// extractors have nothing to finish and nobody to report to: they stop within
/// half a second instead of polling a dead broker forever. (A watchdog rather
/// than prctl(PR_SET_PDEATHSIG), which is variadic in C and Linux-only.)
enum ParentWatch {
    static let variable = "FRUITS_EXIT_WITH_PARENT"
    nonisolated(unsafe) private static var timer: DispatchSourceTimer?

    static func startIfAsked(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let value = environment[variable], let parent = Int32(value) else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now(), repeating: .milliseconds(500))
        timer.setEventHandler {
            guard getppid() != parent else { return }
            FileHandle.standardError.write(Data("fruits: the parent process \(parent) is gone; stopping\n".utf8))
            _exit(1)
        }
        timer.resume()
        Self.timer = timer
    }
}
