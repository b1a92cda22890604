import Foundation
import Testing

@testable import Common

@Suite("CPU budget: the CPUs a process may really use")
struct CPUBudgetTests {
    @Test func cgroupV2QuotaIsRoundedDownToWholeCPUs() {
        #expect(CPUBudget.quota(cpuMax: "max 100000\n") == nil)
        #expect(CPUBudget.quota(cpuMax: "200000 100000\n") == 2)
        #expect(CPUBudget.quota(cpuMax: "150000 100000") == 1)
        #expect(CPUBudget.quota(cpuMax: "50000 100000") == 1)
        #expect(CPUBudget.quota(cpuMax: "garbage") == nil)
    }

    @Test func cgroupV1QuotaOfMinusOneIsNoLimit() {
        #expect(CPUBudget.quota(cfsQuota: "-1\n", cfsPeriod: "100000\n") == nil)
        #expect(CPUBudget.quota(cfsQuota: "300000\n", cfsPeriod: "100000\n") == 3)
    }

    @Test func affinityListCountsRangesAndSingles() {
        #expect(CPUBudget.affinityCount(status: "Name:\tx\nCpus_allowed:\tff\nCpus_allowed_list:\t0-3,8,10-11\n") == 7)
        #expect(CPUBudget.affinityCount(status: "Cpus_allowed_list:\t5\n") == 1)
        #expect(CPUBudget.affinityCount(status: "Name:\tx\n") == nil)
    }

    /// A container's files, laid out in a temporary directory: the smallest
    /// limit of the cgroup, its parents and the affinity mask wins.
    @Test func detectTakesTheSmallestLimitOnThePath() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cpubudget-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write("proc/status", "Cpus_allowed_list:\t0-63\n")
        try write("proc/cgroup", "0::/kubepods/pod1/c1\n")
        try write("cgroup/kubepods/pod1/c1/cpu.max", "max 100000\n")
        try write("cgroup/kubepods/pod1/cpu.max", "300000 100000\n")
        try write("cgroup/kubepods/cpu.max", "max 100000\n")
        let v2 = CPUBudget.detect(cgroupRoot: root.path + "/cgroup", procSelf: root.path + "/proc")
        #expect(v2.cpus == min(3, ProcessInfo.processInfo.activeProcessorCount))

        try write("proc/status", "Cpus_allowed_list:\t0\n")
        #expect(CPUBudget.detect(cgroupRoot: root.path + "/cgroup", procSelf: root.path + "/proc") == CPUBudget(cpus: 1, source: "affinity mask"))

        try write("proc/status", "Cpus_allowed_list:\t0-63\n")
        try write("proc/cgroup", "4:cpu,cpuacct:/docker/abc\n0::/\n")
        try write("cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "100000\n")
        try write("cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n")
        #expect(CPUBudget.detect(cgroupRoot: root.path + "/cgroup", procSelf: root.path + "/proc")
                == CPUBudget(cpus: 1, source: "cgroup v1 cpu.cfs_quota_us"))
    }
}
