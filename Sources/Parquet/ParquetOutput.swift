import Foundation

/// Where a Parquet writer's bytes go, in order, as they are produced.
public protocol ParquetOutput: AnyObject {
    func write(_ bytes: [UInt8]) throws
    func close() throws
}

/// Writes to a local file, replaced atomically on close (a reader never sees
/// a half-written file under the final name).
public final class ParquetFileOutput: ParquetOutput {
    public let path: String
    private let temporaryPath: String
    private let handle: FileHandle

    public init(path: String) throws {
        self.path = path
        self.temporaryPath = path + ".partial"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporaryPath])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporaryPath))
    }

    public func write(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

    public func close() throws {
        try handle.synchronize()
        try handle.close()
        if rename(temporaryPath, path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}

/// Keeps the file in memory (for uploads and tests).
public final class ParquetMemoryOutput: ParquetOutput {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ bytes: [UInt8]) throws { self.bytes += bytes }
    public func close() throws {}
}
