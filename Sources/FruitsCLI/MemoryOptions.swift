import ArgumentParser
import Common
import Extractor

/// The extractor's memory budgets (docs/extractor.md, "Memory budget").
struct MemoryOptions: ParsableArguments {
    @Option(help: "The memory this extractor may use, e.g. 2GiB, when its cgroup limit is not its own (default: the cgroup memory limit, else physical memory).")
    var memoryLimit: String?

    @Option(help: "Memory the extractor's decodes may hold at once, e.g. 768MiB (default: 40 % of the cgroup memory limit, else of physical memory). A photo whose decode needs more is dead-lettered (exceeds_decode_memory).")
    var decodeMemory: String?

    @Option(help: "Memory fetched photos may hold at once, both lanes together, e.g. 256MiB (default: 20 % of the memory limit, at least one 50 MiB object).")
    var fetchMemory: String?

    func validate() throws {
        for (name, value) in [("--memory-limit", memoryLimit), ("--decode-memory", decodeMemory), ("--fetch-memory", fetchMemory)] {
            if let value, ByteCount.parse(value) == nil {
                throw ValidationError("\(name) takes a size such as 536870912, 512MiB or 2GiB, not '\(value)'")
            }
        }
    }

    /// The options given, for a child `fruits extract`.
    var arguments: [String] {
        [("--memory-limit", memoryLimit), ("--decode-memory", decodeMemory), ("--fetch-memory", fetchMemory)]
            .flatMap { name, value in value.map { [name, $0] } ?? [] }
    }

    func budget(maxObjectBytes: Int) throws -> ExtractorMemoryBudget {
        let limit = memoryLimit.flatMap(ByteCount.parse).map { MemoryLimit(bytes: $0, source: "--memory-limit") } ?? .current
        do {
            return try ExtractorMemoryBudget(limit: limit, decodeBytes: decodeMemory.flatMap(ByteCount.parse),
                                             fetchBytes: fetchMemory.flatMap(ByteCount.parse), maxObjectBytes: maxObjectBytes)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
