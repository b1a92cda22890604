import Crypto
import Foundation

/// The few object operations the pipeline needs, over S3 or a directory.
/// Keys are relative to the store's location and use "/" separators.
public protocol ObjectStore: Sendable {
    var location: ObjectLocation { get }
    func get(_ key: String) throws -> [UInt8]
    /// nil only when there is no such object; any other failure throws, so an
    /// unreachable store is never mistaken for an empty one.
    func getIfPresent(_ key: String) throws -> [UInt8]?
    func put(_ key: String, _ bytes: [UInt8], contentType: String) throws
    /// Objects below `prefix`, sorted by key, with their sizes.
    func list(prefix: String) throws -> [(key: String, size: Int)]
    /// One page of that listing: start with `continuation` nil and pass each
    /// page's `next` until it is nil. A store without pages answers in one.
    func listPage(prefix: String, continuation: String?) throws -> ObjectListPage
    /// Removes `key`; an absent key is not an error.
    func delete(_ key: String) throws
    /// The object and its version, or nil when there is no such object.
    func getVersioned(_ key: String) throws -> (bytes: [UInt8], version: ObjectVersion)?
    /// Writes `bytes` only if `key` is still as the caller last saw it:
    /// absent, or at `version`. Throws `ObjectStoreConflict` otherwise, and
    /// writes nothing; two writers racing on one key cannot both succeed.
    func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) throws -> ObjectVersion
    /// Removes what writers that died mid-write left below `prefix`, if it
    /// was started before `date`: S3's incomplete multipart uploads, a
    /// directory's temporary files. Returns how many.
    func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) throws -> Int
}

/// A page of a listing, and where the next one starts (nil: this was the last).
public struct ObjectListPage: Sendable {
    public let objects: [(key: String, size: Int)]
    public let next: String?

    public init(objects: [(key: String, size: Int)], next: String?) {
        self.objects = objects
        self.next = next
    }
}

extension ObjectStore {
    public func listPage(prefix: String, continuation: String?) throws -> ObjectListPage {
        ObjectListPage(objects: try list(prefix: prefix), next: nil)
    }
}

/// One state of an object: S3's ETag, or a digest of a file's content.
public struct ObjectVersion: Hashable, Sendable, CustomStringConvertible {
    public let tag: String
    public init(_ tag: String) { self.tag = tag }
    public var description: String { tag }
}

/// A conditional put found the object changed (or created) by someone else.
public struct ObjectStoreConflict: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let expected: ObjectVersion?
    public var description: String {
        "\(key) was " + (expected == nil ? "created" : "changed") + " by another writer"
    }
}

public enum ObjectStores {
    /// A store for `location`; S3 settings come from `s3` (or the environment).
    public static func open(_ location: ObjectLocation, s3: @autoclosure () throws -> S3Configuration) throws -> any ObjectStore {
        switch location {
        case .s3(let bucket, let prefix):
            return S3ObjectStore(client: S3Client(configuration: try s3()), bucket: bucket, prefix: prefix)
        case .directory(let path):
            return try LocalObjectStore(root: path)
        }
    }
}

public struct S3ObjectStore: ObjectStore {
    public let client: S3Client
    public let bucket: String
    public let prefix: String

    public init(client: S3Client, bucket: String, prefix: String) {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
    }

    public var location: ObjectLocation { .s3(bucket: bucket, prefix: prefix) }

    public func get(_ key: String) throws -> [UInt8] {
        try client.getObject(bucket: bucket, key: ObjectLocation.join(prefix, key))
    }

    public func getIfPresent(_ key: String) throws -> [UInt8]? {
        do { return try get(key) } catch let error as S3Error where error.status == 404 { return nil }
    }

    public func put(_ key: String, _ bytes: [UInt8], contentType: String) throws {
        try client.putObject(bucket: bucket, key: ObjectLocation.join(prefix, key), body: bytes, contentType: contentType)
    }

    public func list(prefix sub: String) throws -> [(key: String, size: Int)] {
        var objects: [(key: String, size: Int)] = []
        var continuation: String?
        repeat {
            let page = try listPage(prefix: sub, continuation: continuation)
            objects += page.objects
            continuation = page.next
        } while continuation != nil
        return objects
    }

    /// S3's own pages of 1,000 keys.
    public func listPage(prefix sub: String, continuation: String?) throws -> ObjectListPage {
        let base = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        let page = try client.listObjects(bucket: bucket, prefix: ObjectLocation.join(prefix, sub), continuationToken: continuation)
        return ObjectListPage(objects: page.objects.map { (String($0.key.dropFirst(base.count)), $0.size) }, next: page.nextContinuationToken)
    }

    public func delete(_ key: String) throws {
        try client.deleteObject(bucket: bucket, key: ObjectLocation.join(prefix, key))
    }

    public func getVersioned(_ key: String) throws -> (bytes: [UInt8], version: ObjectVersion)? {
        do {
            let (body, etag) = try client.getObjectAndTag(bucket: bucket, key: ObjectLocation.join(prefix, key))
            guard let etag else { throw S3Error.invalidResponse("GET \(key) returned no ETag") }
            return (body, ObjectVersion(etag))
        } catch let error as S3Error where error.status == 404 {
            return nil
        }
    }

    public func abandonIncompleteWrites(under sub: String, startedBefore date: Date) throws -> Int {
        try client.abortIncompleteUploads(bucket: bucket, prefix: ObjectLocation.join(prefix, sub), startedBefore: date)
    }

    /// S3 conditional writes (`If-None-Match: *`, `If-Match`), atomic on AWS
    /// since 2024 and on MinIO. A retried request whose first attempt did
    /// land meets its own write and fails its condition; reading the object
    /// back tells that apart from another writer's.
    public func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) throws -> ObjectVersion {
        let full = ObjectLocation.join(prefix, key)
        do {
            let etag = try client.putObject(bucket: bucket, key: full, body: bytes, contentType: contentType, ifMatch: version?.tag)
            guard let etag else { throw S3Error.invalidResponse("PUT \(key) returned no ETag") }
            return ObjectVersion(etag)
        } catch let error as S3Error where [409, 412].contains(error.status) || (version != nil && error.status == 404) {
            if let current = try getVersioned(key), current.bytes == bytes { return current.version }
            throw ObjectStoreConflict(key: key, expected: version)
        }
    }
}

/// A directory as an object store: writes go to a temporary name and are
/// renamed into place, so readers never see half an object.
public struct LocalObjectStore: ObjectStore {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    public var location: ObjectLocation { .directory(root) }

    /// Refuses keys that would leave the root.
    func path(of key: String) throws -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: true)
        guard !key.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw S3Error.invalidLocation("key \(key) under \(root)")
        }
        return root + "/" + parts.joined(separator: "/")
    }

    public func get(_ key: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try path(of: key))))
    }

    public func getIfPresent(_ key: String) throws -> [UInt8]? {
        let path = try path(of: key)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Written to a temporary name, flushed to disk, renamed into place, and
    /// the directory flushed too: once `put` returns, a power loss leaves
    /// either the old object or the new one, never an empty file (the
    /// reducer's checkpoint relies on it).
    public func put(_ key: String, _ bytes: [UInt8], contentType: String) throws {
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

    public func list(prefix: String) throws -> [(key: String, size: Int)] {
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

    public func getVersioned(_ key: String) throws -> (bytes: [UInt8], version: ObjectVersion)? {
        try getIfPresent(key).map { ($0, Self.version(of: $0)) }
    }

    /// Compare-and-rename under an exclusive `flock` of the key's directory:
    /// every conditional writer of that directory, in any process on this
    /// host, takes the same lock (a network file system may not honour it).
    public func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) throws -> ObjectVersion {
        let directory = (try path(of: key) as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DurableFile.Failure(operation: "open", path: directory, code: errno) }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw DurableFile.Failure(operation: "flock", path: directory, code: errno) }
        defer { flock(descriptor, LOCK_UN) }
        guard try getVersioned(key)?.version == version else { throw ObjectStoreConflict(key: key, expected: version) }
        try put(key, bytes, contentType: contentType)
        return Self.version(of: bytes)
    }

    public func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) throws -> Int {
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
    public func delete(_ key: String) throws {
        guard unlink(try path(of: key)) == 0 || errno == ENOENT else {
            throw DurableFile.Failure(operation: "unlink", path: try path(of: key), code: errno)
        }
    }
}
