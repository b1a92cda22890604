import Common
import Foundation
import ObjectStorage
import Synchronization
import TestSupport
import Testing

@Suite("Object stores: a directory and S3 behave alike", .tags(.integration))
struct ObjectStoreTests {
    enum Kind: String, CaseIterable, Sendable { case directory, s3 }

    static func store(_ kind: Kind) async throws -> any ObjectStore {
        switch kind {
        case .directory:
            return try LocalObjectStore(root: Tools.temporaryPath("store-\(UUID().uuidString.prefix(8))"))
        case .s3:
            let client = try await S3TestServer.shared().client()
            let bucket = "store-\(UUID().uuidString.prefix(8).lowercased())"
            try await client.createBucket(bucket)
            return S3ObjectStore(client: client, bucket: bucket, prefix: "Results/")
        }
    }

    @Test(arguments: Kind.allCases)
    func putListGetOverwriteDelete(kind: Kind) async throws {
        let store = try await Self.store(kind)
        try await store.put("features/part-0001.parquet", Array("one".utf8), contentType: "application/octet-stream")
        try await store.put("features/part-0000.parquet", Array("zero".utf8), contentType: "application/octet-stream")
        try await store.put("pca/model.json", Array("{}".utf8), contentType: "application/json")
        #expect(try await store.list(prefix: "features/").map(\.key) == ["features/part-0000.parquet", "features/part-0001.parquet"])
        #expect(try await store.list(prefix: "").count == 3)
        try await store.put("features/part-0001.parquet", Array("replaced".utf8), contentType: "application/octet-stream")
        #expect(try await store.get("features/part-0001.parquet") == Array("replaced".utf8))
        #expect(try await store.list(prefix: "features/part-0001").map(\.size) == [8])
        try await store.delete("pca/model.json")
        #expect(try await store.list(prefix: "pca/").isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func missingObjectsAreAbsentNotErrors(kind: Kind) async throws {
        let store = try await Self.store(kind)
        #expect(try await store.getIfPresent("_ids/features/ab/nothing") == nil)
        try await store.put("_ids/features/ab/something", [7, 7], contentType: "application/octet-stream")
        #expect(try await store.getIfPresent("_ids/features/ab/something") == [7, 7])
    }

    /// The reducer's fence: create only if absent, replace only if unchanged.
    /// S3 (`If-None-Match: *`, `If-Match`) and a directory agree.
    @Test(arguments: Kind.allCases)
    func conditionalPutsRefuseAChangedObject(kind: Kind) async throws {
        let store = try await Self.store(kind)
        let key = "_checkpoint/reducer.ckpt"
        let first = try await store.put(key, [1], contentType: "application/octet-stream", ifUnchangedSince: nil)
        await #expect(throws: ObjectStoreConflict.self) { try await store.put(key, [2], contentType: "application/octet-stream", ifUnchangedSince: nil) }
        #expect(try await store.getVersioned(key)?.version == first)
        let second = try await store.put(key, [3], contentType: "application/octet-stream", ifUnchangedSince: first)
        #expect(second != first)
        await #expect(throws: ObjectStoreConflict.self) { try await store.put(key, [4], contentType: "application/octet-stream", ifUnchangedSince: first) }
        #expect(try await store.getVersioned(key).map { ($0.bytes, $0.version) } ?? ([], first) == ([3], second))
        await #expect(throws: ObjectStoreConflict.self) {
            try await store.put("_checkpoint/other", [5], contentType: "application/octet-stream", ifUnchangedSince: second)
        }
        #expect(try await store.getVersioned("_checkpoint/other") == nil)
    }

    /// Eight writers race to replace one version: exactly one wins, on a
    /// directory as on S3 (where the server decides). Eight: a directory
    /// writer waiting for the lock holds a blocking-I/O thread meanwhile.
    @Test func racingConditionalWritersOnADirectoryHaveOneWinner() async throws {
        let store = try await Self.store(.directory)
        let base = try await store.put("lease", [0], contentType: "application/octet-stream", ifUnchangedSince: nil)
        let winners = Mutex(0)
        _ = try await ConcurrentMap.map(Array(0..<8), parallelism: 8) { writer in
            if (try? await store.put("lease", [UInt8(writer + 1)], contentType: "application/octet-stream", ifUnchangedSince: base)) != nil {
                winners.withLock { $0 += 1 }
            }
        }
        #expect(winners.withLock { $0 } == 1)
    }

    /// A bucket that cannot be reached must not read as an empty one: the
    /// reducer would start over and overwrite the results.
    @Test func anUnreachableBucketIsAnErrorNotAnAbsence() async throws {
        var configuration = try await S3TestServer.shared().client().configuration
        configuration.endpoint = try S3Configuration.Endpoint(url: "http://127.0.0.1:\(Tools.freePort())")
        configuration.retry.attempts = 1
        let store = S3ObjectStore(client: S3Client(configuration: configuration), bucket: "absent", prefix: "")
        await #expect(throws: S3Error.self) { try await store.getIfPresent("_checkpoint/reducer.ckpt") }
    }

    /// A crashed writer's temporary file is removed once it is older than the given time.
    @Test func aDirectorysAbandonedTemporaryFilesAreRemoved() async throws {
        let store = try LocalObjectStore(root: Tools.temporaryPath("partials-\(UUID().uuidString.prefix(8))"))
        try await store.put("features/kept.parquet", [1], contentType: "x")
        let orphan = store.root + "/features/kept.parquet.partial-1234abcd"
        #expect(FileManager.default.createFile(atPath: orphan, contents: Data([2])))
        #expect(try await store.abandonIncompleteWrites(under: "features/", startedBefore: Date() - 3600) == 0)
        #expect(try await store.abandonIncompleteWrites(under: "features/", startedBefore: Date() + 60) == 1)
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(try await store.get("features/kept.parquet") == [1])
    }

    @Test func localKeysCannotEscapeTheRoot() async throws {
        let store = try LocalObjectStore(root: Tools.temporaryPath("jail"))
        for key in ["../outside", "a/../../b", "/etc/passwd", ""] {
            await #expect(throws: S3Error.self) { try await store.put(key, [1], contentType: "x") }
        }
    }

    @Test func locationsParse() async throws {
        #expect(try ObjectLocation(parsing: "s3://fruits/Results/") == .s3(bucket: "fruits", prefix: "Results/"))
        #expect(try ObjectLocation(parsing: "s3://fruits") == .s3(bucket: "fruits", prefix: ""))
        #expect(try ObjectLocation(parsing: "file:///data/in") == .directory("/data/in"))
        await #expect(throws: S3Error.self) { try await ObjectLocation(parsing: "http://x/y") }
        await #expect(throws: S3Error.self) { try await ObjectLocation(parsing: "s3:///nobucket") }
        #expect(ObjectLocation.s3(bucket: "b", prefix: "Test").uri(of: "Apple/1.jpg") == "s3://b/Test/Apple/1.jpg")
        #expect(ObjectLocation.directory("/d").uri(of: "Apple Red/1.jpg") == "file:///d/Apple%20Red/1.jpg")
    }
}
