import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// glibc gives threads that allocate at once arenas of their own, up to
/// eight per core, and an arena keeps what was freed in it. Work that hops
/// between the cooperative pool, the blocking-I/O threads and the services'
/// own threads spreads large buffers (Parquet parts, checkpoints) over many
/// arenas: the reducer peaked 40 MiB higher for it (`fruits bench reduce
/// --events 4000`: 188 MiB, 145 MiB with two arenas, at the same speed).
public enum MallocArenas {
    /// Caps the arenas at one per CPU of the budget (at least two), unless the
    /// operator set `MALLOC_ARENA_MAX`. Call before threads start allocating.
    public static func limitToCPUs() {
        #if canImport(Glibc)
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil,
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt")  // RTLD_DEFAULT
        else { return }
        // malloc.h, which Swift's Glibc module leaves out: int mallopt(int, int); M_ARENA_MAX is -8.
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-8, Int32(max(2, CPUBudget.current.cpus)))
        #endif
    }
}
