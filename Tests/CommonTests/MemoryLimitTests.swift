import Foundation
import Testing

@testable import Common

@Suite("Memory limit: the bytes a process may really use")
struct MemoryLimitTests {
    /// A container's files in a temporary directory, as `detect` reads them.
    private struct FakeRoot {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("memorylimit-\(UUID())")

        func write(_ path: String, _ text: String) throws {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }

        func detect(physical: Int = 64 << 30) -> MemoryLimit {
            MemoryLimit.detect(cgroupRoot: url.path + "/cgroup", procSelf: url.path + "/proc", physicalBytes: physical)
        }

        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    @Test func cgroupV2TakesTheSmallestMemoryMaxOnThePath() throws {
        let root = FakeRoot()
        defer { root.remove() }
        try root.write("proc/cgroup", "0::/kubepods/pod1/c1\n")
        try root.write("cgroup/kubepods/pod1/c1/memory.max", "max\n")
        try root.write("cgroup/kubepods/pod1/memory.max", "2147483648\n")
        try root.write("cgroup/kubepods/memory.max", "8589934592\n")
        #expect(root.detect() == MemoryLimit(bytes: 2 << 30, source: "cgroup v2 memory.max"))
    }

    @Test func maxEverywhereFallsBackToPhysicalMemory() throws {
        let root = FakeRoot()
        defer { root.remove() }
        try root.write("proc/cgroup", "0::/\n")
        try root.write("cgroup/memory.max", "max\n")
        #expect(root.detect(physical: 24 << 30) == MemoryLimit(bytes: 24 << 30, source: "physical memory"))
        // No cgroup files at all (a bare machine, macOS): physical memory too.
        #expect(FakeRoot().detect(physical: 3 << 30) == MemoryLimit(bytes: 3 << 30, source: "physical memory"))
    }

    @Test func cgroupV1ReadsLimitInBytesAndIgnoresItsNoLimitValue() throws {
        let root = FakeRoot()
        defer { root.remove() }
        try root.write("proc/cgroup", "4:memory:/docker/abc\n0::/\n")
        try root.write("cgroup/memory/docker/abc/memory.limit_in_bytes", "1073741824\n")
        try root.write("cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")
        #expect(root.detect() == MemoryLimit(bytes: 1 << 30, source: "cgroup v1 memory.limit_in_bytes"))

        try root.write("cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n")
        #expect(root.detect(physical: 5 << 30) == MemoryLimit(bytes: 5 << 30, source: "physical memory"))
    }

    @Test func unreadableLimitsAreIgnored() {
        #expect(MemoryLimit.limit("max\n") == nil)
        #expect(MemoryLimit.limit("0") == nil)
        #expect(MemoryLimit.limit("-1") == nil)
        #expect(MemoryLimit.limit(" 4096\n") == 4096)
    }

    @Test func byteCountsParseWithUnitsAndRefuseTheRest() {
        #expect(ByteCount.parse("536870912") == 536_870_912)
        #expect(ByteCount.parse("512MiB") == 512 << 20)
        #expect(ByteCount.parse("1.5GiB") == 3 << 29)
        #expect(ByteCount.parse("800MB") == 800_000_000)
        #expect(ByteCount.parse("64 KiB") == 64 << 10)
        for bad in ["", "MiB", "-1GiB", "1e9", "12 apples", "0x10", "1..5MiB", "99999999999TiB"] {
            #expect(ByteCount.parse(bad) == nil, "\(bad)")
        }
    }
}
