#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS sizes its thread pool from the host's cores, which in a container
/// with a CPU limit oversubscribes it. The symbol is looked up rather than
/// declared: `cblas.h` may come from another BLAS on the build machine.
enum LinearAlgebra {
    private typealias SetThreads = @convention(c) (Int32) -> Void

    static func limitThreads(to count: Int) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_set_num_threads") else { return }
        unsafeBitCast(symbol, to: SetThreads.self)(Int32(count))
    }
}
