#if canImport(Glibc)
import Glibc
#endif

/// oneDNN's Debian build runs on OpenMP. `omp_set_num_threads` lives in the
/// runtime libdnnl already loaded; it is looked up rather than linked so the
/// build needs no OpenMP development files.
public enum OpenMP {
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32

    public static func setThreads(_ count: Int) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return }
        unsafeBitCast(symbol, to: SetThreads.self)(Int32(count))
    }

    public static var maxThreads: Int? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_get_max_threads") else { return nil }
        return Int(unsafeBitCast(symbol, to: GetThreads.self)())
    }
}
