import Foundation

/// How many CPUs this process may really use: the smallest of its cgroup's CPU
/// quota, its affinity mask and the online cores.
///
/// OpenMP and OpenBLAS size their thread teams from the host's cores, even in a
/// container whose CPU limit is a fraction of them; teams larger than the quota
/// spin at barriers while the kernel throttles them. A quota of 1.5 CPUs counts
/// as 1: a second compute thread would only be throttled, and the rest is left
/// to the I/O threads.
public struct CPUBudget: Sendable, Equatable {
    public let cpus: Int
    /// What set the limit, for the logs: "cgroup v2 cpu.max", "affinity", ...
    public let source: String

    public static let current = CPUBudget.detect()

    public static func detect(
        cgroupRoot: String = "/sys/fs/cgroup", procSelf: String = "/proc/self"
    ) -> CPUBudget {
        var candidates: [CPUBudget] = [CPUBudget(cpus: ProcessInfo.processInfo.activeProcessorCount, source: "online cores")]
        let read = { (path: String) in try? String(contentsOfFile: path, encoding: .utf8) }
        if let status = read(procSelf + "/status"), let count = affinityCount(status: status) {
            candidates.append(CPUBudget(cpus: count, source: "affinity mask"))
        }
        let memberships = read(procSelf + "/cgroup").map(cgroupPaths) ?? [:]
        if let path = memberships[""] {
            for directory in ancestors(of: path, under: cgroupRoot) {
                if let text = read(directory + "/cpu.max"), let quota = quota(cpuMax: text) {
                    candidates.append(CPUBudget(cpus: quota, source: "cgroup v2 cpu.max"))
                }
            }
        }
        if let path = memberships["cpu"] ?? memberships["cpu,cpuacct"] {
            for mount in ["/cpu", "/cpu,cpuacct"] {
                for directory in ancestors(of: path, under: cgroupRoot + mount) {
                    if let quotaText = read(directory + "/cpu.cfs_quota_us"), let periodText = read(directory + "/cpu.cfs_period_us"),
                       let quota = quota(cfsQuota: quotaText, cfsPeriod: periodText) {
                        candidates.append(CPUBudget(cpus: quota, source: "cgroup v1 cpu.cfs_quota_us"))
                    }
                }
            }
        }
        return candidates.min { $0.cpus < $1.cpus }!
    }

    /// `cpu.max` is "max 100000" (no limit) or "<quota> <period>" in microseconds.
    static func quota(cpuMax: String) -> Int? {
        let fields = cpuMax.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]) else { return nil }
        return wholeCPUs(quota / period)
    }

    /// cgroup v1: a quota of -1 means no limit.
    static func quota(cfsQuota: String, cfsPeriod: String) -> Int? {
        guard let quota = Double(cfsQuota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let period = Double(cfsPeriod.trimmingCharacters(in: .whitespacesAndNewlines)), quota > 0
        else { return nil }
        return wholeCPUs(quota / period)
    }

    private static func wholeCPUs(_ cpus: Double) -> Int? {
        guard cpus.isFinite, cpus > 0 else { return nil }
        return max(1, Int(cpus.rounded(.down)))
    }

    /// The CPUs of "Cpus_allowed_list:\t0-3,8,10-11" in /proc/self/status.
    static func affinityCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            switch bounds.count {
            case 1: count += 1
            case 2 where bounds[1] >= bounds[0]: count += bounds[1] - bounds[0] + 1
            default: return nil
            }
        }
        return count > 0 ? count : nil
    }

    /// /proc/self/cgroup lines "ID:CONTROLLERS:PATH"; the v2 hierarchy has no controllers ("").
    static func cgroupPaths(_ text: String) -> [String: String] {
        var paths: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            paths[String(fields[1])] = String(fields[2])
        }
        return paths
    }

    /// The cgroup's directory and its parents up to the mount point: a limit
    /// on any of them applies.
    static func ancestors(of path: String, under root: String) -> [String] {
        var components = path.split(separator: "/").map(String.init)
        var directories: [String] = []
        while true {
            directories.append(([root] + components).joined(separator: "/"))
            guard !components.isEmpty else { return directories }
            components.removeLast()
        }
    }
}
