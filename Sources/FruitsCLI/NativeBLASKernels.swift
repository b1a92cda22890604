import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's OpenBLAS 0.3.21 does not recognise AVX-512 CPUs it was not built
/// for (Cooper Lake, Sapphire Rapids, virtual "Intel Xeon Processor" models)
/// and falls back to its SSE3 "Prescott" kernels: the reducer's covariance
/// update and eigensolve then run 2-4x slower. OpenBLAS picks its kernels
/// once, when it is loaded, from `OPENBLAS_CORETYPE`; so when it chose
/// Prescott on a CPU that has AVX-512 or AVX2, the process starts itself again
/// with the matching core type. An operator's own `OPENBLAS_CORETYPE` wins.
enum NativeBLASKernels {
    static let variable = "OPENBLAS_CORETYPE"

    static func restartIfGeneric() {
        guard getenv(variable) == nil, loadedCoreName == "Prescott", let native = nativeCoreType() else { return }
        setenv(variable, native, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Not fatal: the process only runs slower. Say so once.
        FileHandle.standardError.write(Data("note: could not restart with \(variable)=\(native): \(String(cString: strerror(errno)))\n".utf8))
    }

    private typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?

    private static var loadedCoreName: String? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_get_corename"),
              let name = unsafeBitCast(symbol, to: CoreName.self)() else { return nil }
        return String(cString: name)
    }

    private static func nativeCoreType() -> String? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
