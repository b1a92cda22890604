#if canImport(Glibc)
import Glibc
#endif

/// A zeroed, 64-byte aligned float buffer (cache line and AVX-512 width).
final class AlignedBuffer {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int) {
        var raw: UnsafeMutableRawPointer?
        let size = max(byteCount, 64)
        guard posix_memalign(&raw, 64, size) == 0, let raw else {
            fatalError("out of memory allocating \(size) bytes")
        }
        memset(raw, 0, size)
        self.pointer = raw
        self.byteCount = size
    }

    deinit { free(pointer) }

    var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}
