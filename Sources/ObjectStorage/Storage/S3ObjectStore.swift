import Foundation

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

    public func get(_ key: String) async throws -> [UInt8] {
        try await client.getObject(bucket: bucket, key: ObjectLocation.join(prefix, key))
    }

    public func getIfPresent(_ key: String) async throws -> [UInt8]? {
        do { return try await get(key) } catch let error as S3Error where error.status == 404 { return nil }
    }

    public func put(_ key: String, _ bytes: [UInt8], contentType: String) async throws {
        try await client.putObject(bucket: bucket, key: ObjectLocation.join(prefix, key), body: bytes, contentType: contentType)
    }

    public func list(prefix sub: String) async throws -> [(key: String, size: Int)] {
        var objects: [(key: String, size: Int)] = []
        var continuation: String?
        repeat {
            let page = try await listPage(prefix: sub, continuation: continuation)
            objects += page.objects
            continuation = page.next
        } while continuation != nil
        return objects
    }

    /// S3's own pages of 1,000 keys.
    public func listPage(prefix sub: String, continuation: String?) async throws -> ObjectListPage {
        let base = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        let page = try await client.listObjects(bucket: bucket, prefix: ObjectLocation.join(prefix, sub), continuationToken: continuation)
        return ObjectListPage(objects: page.objects.map { (String($0.key.dropFirst(base.count)), $0.size) }, next: page.nextContinuationToken)
    }

    public func delete(_ key: String) async throws {
        try await client.deleteObject(bucket: bucket, key: ObjectLocation.join(prefix, key))
    }

    public func getVersioned(_ key: String) async throws -> (bytes: [UInt8], version: ObjectVersion)? {
        do {
            let (body, etag) = try await client.getObjectAndTag(bucket: bucket, key: ObjectLocation.join(prefix, key))
            guard let etag else { throw S3Error.invalidResponse("GET \(key) returned no ETag") }
            return (body, ObjectVersion(etag))
        } catch let error as S3Error where error.status == 404 {
            return nil
        }
    }

    public func abandonIncompleteWrites(under sub: String, startedBefore date: Date) async throws -> Int {
        try await client.abortIncompleteUploads(bucket: bucket, prefix: ObjectLocation.join(prefix, sub), startedBefore: date)
    }

    /// S3 conditional writes (`If-None-Match: *`, `If-Match`), atomic on AWS
    /// since 2024 and on MinIO. A retried request whose first attempt did
    /// land meets its own write and fails its condition; reading the object
    /// back tells that apart from another writer's.
    public func put(_ key: String, _ bytes: [UInt8], contentType: String, ifUnchangedSince version: ObjectVersion?) async throws -> ObjectVersion {
        let full = ObjectLocation.join(prefix, key)
        do {
            let etag = try await client.putObject(bucket: bucket, key: full, body: bytes, contentType: contentType, ifMatch: version?.tag)
            guard let etag else { throw S3Error.invalidResponse("PUT \(key) returned no ETag") }
            return ObjectVersion(etag)
        } catch let error as S3Error where [409, 412].contains(error.status) || (version != nil && error.status == 404) {
            if let current = try await getVersioned(key), current.bytes == bytes { return current.version }
            throw ObjectStoreConflict(key: key, expected: version)
        }
    }
}
