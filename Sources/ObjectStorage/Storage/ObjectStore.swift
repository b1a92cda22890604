import Foundation

/// The few object operations the pipeline needs, over S3 or a directory.
/// Keys are relative to the store's location and use "/" separators.
public protocol ObjectStore: Sendable {
    var location: ObjectLocation { get }
    func get(_ key: String) async throws -> [UInt8]
    /// nil only when there is no such object; any other failure throws, so an
    /// unreachable store is never mistaken for an empty one.
    func getIfPresent(_ key: String) async throws -> [UInt8]?
    func put(_ key: String, _ bytes: [UInt8], contentType: String) async throws
    /// Objects below `prefix`, sorted by key, with their sizes.
    func list(prefix: String) async throws -> [(key: String, size: Int)]
    /// One page of that listing: start with `continuation` nil and pass each
    /// page's `next` until it is nil. A store without pages answers in one.
    func listPage(prefix: String, continuation: String?) async throws -> ObjectListPage
    /// Removes `key`; an absent key is not an error.
    func delete(_ key: String) async throws
    /// The object and its version, or nil when there is no such object.
    func getVersioned(_ key: String) async throws -> (bytes: [UInt8], version: ObjectVersion)?
    /// Writes `bytes` only if `key` is still as the caller last saw it:
    /// absent, or at `version`. Throws `ObjectStoreConflict` otherwise, and
    /// writes nothing; two writers racing on one key cannot both succeed.
    func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) async throws -> ObjectVersion
    /// Removes what writers that died mid-write left below `prefix`, if it
    /// was started before `date`: S3's incomplete multipart uploads, a
    /// directory's temporary files. Returns how many.
    func abandonIncompleteWrites(under prefix: String, startedBefore date: Date) async throws -> Int
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
    public func listPage(prefix: String, continuation: String?) async throws -> ObjectListPage {
        ObjectListPage(objects: try await list(prefix: prefix), next: nil)
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

    public init(key: String, expected: ObjectVersion?) {
        self.key = key
        self.expected = expected
    }

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
