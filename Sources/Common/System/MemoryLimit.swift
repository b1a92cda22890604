import Foundation

/// How much memory this process may really use: the smallest `memory.max`
/// (cgroup v2) or `memory.limit_in_bytes` (cgroup v1) of its cgroup and its
/// ancestors, else the machine's physical memory.
///
/// Past that limit the kernel OOM-kills the pod, which replays the batch that
/// killed it: the extractor sizes its decode and fetch budgets from this
/// figure so a batch of large photos waits instead (docs/extractor.md).
public struct MemoryLimit: Sendable, Equatable {
    public let bytes: Int
    /// What set the limit, for the logs: "cgroup v2 memory.max", "physical memory".
    public let source: String

    public init(bytes: Int, source: String) {
        self.bytes = bytes
        self.source = source
    }

    public static let current = MemoryLimit.detect()

    public static func detect(
        cgroupRoot: String = "/sys/fs/cgroup", procSelf: String = "/proc/self",
        physicalBytes: Int = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    ) -> MemoryLimit {
        var candidates = [MemoryLimit(bytes: physicalBytes, source: "physical memory")]
        let read = { (path: String) in try? String(contentsOfFile: path, encoding: .utf8) }
        let memberships = read(procSelf + "/cgroup").map(CPUBudget.cgroupPaths) ?? [:]
        if let path = memberships[""] {
            for directory in CPUBudget.ancestors(of: path, under: cgroupRoot) {
                if let text = read(directory + "/memory.max"), let limit = limit(text) {
                    candidates.append(MemoryLimit(bytes: limit, source: "cgroup v2 memory.max"))
                }
            }
        }
        if let path = memberships["memory"] {
            for directory in CPUBudget.ancestors(of: path, under: cgroupRoot + "/memory") {
                if let text = read(directory + "/memory.limit_in_bytes"), let limit = limit(text) {
                    candidates.append(MemoryLimit(bytes: limit, source: "cgroup v1 memory.limit_in_bytes"))
                }
            }
        }
        return candidates.min { $0.bytes < $1.bytes }!
    }

    /// "max" (v2) means no limit; v1 writes "no limit" as a huge number,
    /// which the physical memory then undercuts.
    static func limit(_ text: String) -> Int? {
        guard let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0 else { return nil }
        return bytes
    }
}
