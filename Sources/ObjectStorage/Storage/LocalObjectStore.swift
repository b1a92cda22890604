import Common
import Crypto
import Foundation

/// A directory as an object store. Its file system calls (reads, fsync,
/// rename, flock) block, so they run on `BlockingIOPool`, never on the
/// caller's thread.
public struct LocalObjectStore: ObjectStore {
    public var root: String { files.root }
    private let files: DirectoryFiles

    public init(root: String) throws {
        files = try DirectoryFiles(root: root)
    }

    public var location: ObjectLocation { .directory(root) }

    public func get(_ key: String) async throws -> [UInt8] { try await blocking { try $0.get(key) } }

    public func getIfPresent(_ key: String) async throws -> [UInt8]? { try await blocking { try $0.getIfPresent(key) } }

    public func put(_ key: String, _ bytes: [UInt8], contentType: String) async throws {
        try await blocking { try $0.put(key, bytes) }
    }

    public func list(prefix: String) async throws -> [(key: String, size: Int)] {
        try await blocking { try $0.list(prefix: prefix) }
    }

    public func delete(_ key: String) async throws { try await blocking { try $0.delete(key) } }

    public func getVersioned(_ key: String) async throws -> (bytes: [UInt8], version: ObjectVersion)? {
        try await blocking { try $0.getVersioned(key) }
    }

    public func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) async throws -> ObjectVersion {
        try await blocking { try $0.put(key, bytes, ifUnchangedSince: version) }
    }

    public func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) async throws -> Int {
        try await blocking { try $0.abandonIncompleteWrites(under: prefix, startedBefore: date) }
    }

    private func blocking<T: Sendable>(_ operation: @escaping @Sendable (DirectoryFiles) throws -> T) async throws -> T {
        try await BlockingIOPool.shared.run { [files] in try operation(files) }
    }
}

/// The directory behind `LocalObjectStore`, by blocking system calls: writes
/// go to a temporary name and are renamed into place, so readers never see
/// half an object.
struct DirectoryFiles: Sendable {
    let root: String

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Refuses keys that would leave the root.
    func path(of key: String) throws -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: true)
        guard !key.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw S3Error.invalidLocation("key \(key) under \(root)")
        }
        return root + "/" + parts.joined(separator: "/")
    }

    func get(_ key: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try path(of: key))))
    }

    func getIfPresent(_ key: String) throws -> [UInt8]? {
        let path = try path(of: key)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Written to a temporary name, flushed to disk, renamed into place, and
    /// the directory flushed too: once `put` returns, a power loss leaves
    /// either the old object or the new one, never an empty file (the
    /// reducer's checkpoint relies on it).
    func put(_ key: String, _ bytes: [UInt8]) throws {
        let target = try path(of: key)
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = target + ".partial-\(UUID().uuidString.prefix(8))"
        do {
            try DurableFile.write(bytes, to: temporary)
            guard rename(temporary, target) == 0 else { throw DurableFile.Failure(operation: "rename", path: target, code: errno) }
            try DurableFile.sync(directory: directory)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    func list(prefix: String) throws -> [(key: String, size: Int)] {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey]) else {
            return []
        }
        var objects: [(key: String, size: Int)] = []
        let base = rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/"
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            let key = String(url.standardizedFileURL.path.dropFirst(base.count))
            if key.hasPrefix(prefix) && !key.contains(".partial-") { objects.append((key, values.fileSize ?? 0)) }
        }
        return objects.sorted { $0.key < $1.key }
    }

    func getVersioned(_ key: String) throws -> (bytes: [UInt8], version: ObjectVersion)? {
        try getIfPresent(key).map { ($0, Self.version(of: $0)) }
    }

    /// Compare-and-rename under an exclusive `flock` of the key's directory:
    /// every conditional writer of that directory, in any process on this
    /// host, takes the same lock (a network file system may not honour it).
    func put(_ key: String, _ bytes: [UInt8], ifUnchangedSince version: ObjectVersion?) throws -> ObjectVersion {
        let directory = (try path(of: key) as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DurableFile.Failure(operation: "open", path: directory, code: errno) }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw DurableFile.Failure(operation: "flock", path: directory, code: errno) }
        defer { flock(descriptor, LOCK_UN) }
        guard try getVersioned(key)?.version == version else { throw ObjectStoreConflict(key: key, expected: version) }
        try put(key, bytes)
        return Self.version(of: bytes)
    }

    func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) throws -> Int {
        let directory = prefix.isEmpty ? root : try path(of: prefix)
        guard let walker = FileManager.default.enumerator(at: URL(fileURLWithPath: directory), includingPropertiesForKeys: [.contentModificationDateKey]) else { return 0 }
        var removed = 0
        for case let url as URL in walker where url.lastPathComponent.contains(".partial-") {
            guard let modified = try url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate, modified < date else { continue }
            try FileManager.default.removeItem(at: url)
            removed += 1
        }
        return removed
    }

    static func version(of bytes: [UInt8]) -> ObjectVersion {
        ObjectVersion(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
    }

    /// Deleting an object that is not there succeeds, as on S3.
    func delete(_ key: String) throws {
        guard unlink(try path(of: key)) == 0 || errno == ENOENT else {
            throw DurableFile.Failure(operation: "unlink", path: try path(of: key), code: errno)
        }
    }
}
