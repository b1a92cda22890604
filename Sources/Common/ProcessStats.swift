import Foundation

/// Memory figures of this process, read from /proc (Linux).
public enum ProcessStats {
    /// Peak resident set size ("VmHWM") in bytes, or nil where /proc is absent.
    public static var peakResidentBytes: Int? { statusField("VmHWM") }

    private static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}
