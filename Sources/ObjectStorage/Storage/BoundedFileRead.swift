#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a local file an event names, never more than `maxBytes` of it:
/// - opened without blocking, so a FIFO does not wait for a writer;
/// - a regular file only (fstat on the open descriptor, so nothing can be
///   swapped in between the check and the read): /dev/zero, a directory or
///   a socket is refused before a byte is read;
/// - the read stops past `maxBytes` whatever the size said, since a file can
///   grow while it is read and /proc files report a size of 0.
enum BoundedFileRead {
    static func contents(path: String, uri: String, maxBytes: Int) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            let code = errno
            throw ObjectFetcher.FetchError.missing(uri, code == ENOENT || code == ENOTDIR ? "no such file" : Self.message(code))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ObjectFetcher.FetchError.missing(uri, Self.message(errno)) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ObjectFetcher.FetchError.notRegularFile(uri, kind: Self.kind(of: status.st_mode))
        }
        let size = Int(status.st_size)
        guard size <= maxBytes else { throw ObjectFetcher.FetchError.tooLarge(uri, bytes: size, limit: maxBytes) }

        // One byte more than allowed tells a file that grew past the limit.
        let capacity = maxBytes + 1
        var bytes = [UInt8](repeating: 0, count: min(size + 1, capacity))
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count < capacity else { break }
                bytes += [UInt8](repeating: 0, count: min(max(bytes.count, 1 << 16), capacity - bytes.count))
            }
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw ObjectFetcher.FetchError.missing(uri, Self.message(errno)) }
            if got == 0 { break }
            count += got
        }
        guard count <= maxBytes else { throw ObjectFetcher.FetchError.tooLarge(uri, bytes: nil, limit: maxBytes) }
        bytes.removeSubrange(count...)
        return bytes
    }

    private static func message(_ code: Int32) -> String { String(cString: strerror(code)) }

    private static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "directory"
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        case S_IFIFO: "FIFO"
        case S_IFSOCK: "socket"
        default: "special file"
        }
    }
}
