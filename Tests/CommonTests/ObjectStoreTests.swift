import Common
import Foundation
import TestSupport
import Testing

@Suite("Object stores: a directory and S3 behave alike")
struct ObjectStoreTests {
    enum Kind: String, CaseIterable, Sendable { case directory, s3 }

    static func store(_ kind: Kind) throws -> any ObjectStore {
        switch kind {
        case .directory:
            return try LocalObjectStore(root: Tools.temporaryPath("store-\(UUID().uuidString.prefix(8))"))
        case .s3:
            let client = try S3TestServer.shared.get().client()
            let bucket = "store-\(UUID().uuidString.prefix(8).lowercased())"
            try client.createBucket(bucket)
            return S3ObjectStore(client: client, bucket: bucket, prefix: "Results/")
        }
    }

    @Test(arguments: Kind.allCases)
    func putListGetOverwriteDelete(kind: Kind) throws {
        let store = try Self.store(kind)
        try store.put("features/part-0001.parquet", Array("one".utf8), contentType: "application/octet-stream")
        try store.put("features/part-0000.parquet", Array("zero".utf8), contentType: "application/octet-stream")
        try store.put("pca/model.json", Array("{}".utf8), contentType: "application/json")
        #expect(try store.list(prefix: "features/").map(\.key) == ["features/part-0000.parquet", "features/part-0001.parquet"])
        #expect(try store.list(prefix: "").count == 3)
        try store.put("features/part-0001.parquet", Array("replaced".utf8), contentType: "application/octet-stream")
        #expect(try store.get("features/part-0001.parquet") == Array("replaced".utf8))
        #expect(try store.list(prefix: "features/part-0001").map(\.size) == [8])
        try store.delete("pca/model.json")
        #expect(try store.list(prefix: "pca/").isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func missingObjectsAreAbsentNotErrors(kind: Kind) throws {
        let store = try Self.store(kind)
        #expect(try store.getIfPresent("_ids/features/ab/nothing") == nil)
        try store.put("_ids/features/ab/something", [7, 7], contentType: "application/octet-stream")
        #expect(try store.getIfPresent("_ids/features/ab/something") == [7, 7])
    }

    /// A bucket that cannot be reached must not read as an empty one: the
    /// reducer would start over and overwrite the results.
    @Test func anUnreachableBucketIsAnErrorNotAnAbsence() throws {
        var configuration = try S3TestServer.shared.get().client().configuration
        configuration.endpoint = try S3Configuration.Endpoint(url: "http://127.0.0.1:\(Tools.freePort())")
        configuration.retry.attempts = 1
        let store = S3ObjectStore(client: S3Client(configuration: configuration), bucket: "absent", prefix: "")
        #expect(throws: S3Error.self) { try store.getIfPresent("_checkpoint/reducer.ckpt") }
    }

    @Test func localKeysCannotEscapeTheRoot() throws {
        let store = try LocalObjectStore(root: Tools.temporaryPath("jail"))
        for key in ["../outside", "a/../../b", "/etc/passwd", ""] {
            #expect(throws: S3Error.self) { try store.put(key, [1], contentType: "x") }
        }
    }

    @Test func locationsParse() throws {
        #expect(try ObjectLocation(parsing: "s3://fruits/Results/") == .s3(bucket: "fruits", prefix: "Results/"))
        #expect(try ObjectLocation(parsing: "s3://fruits") == .s3(bucket: "fruits", prefix: ""))
        #expect(try ObjectLocation(parsing: "file:///data/in") == .directory("/data/in"))
        #expect(throws: S3Error.self) { try ObjectLocation(parsing: "http://x/y") }
        #expect(throws: S3Error.self) { try ObjectLocation(parsing: "s3:///nobucket") }
        #expect(ObjectLocation.s3(bucket: "b", prefix: "Test").uri(of: "Apple/1.jpg") == "s3://b/Test/Apple/1.jpg")
        #expect(ObjectLocation.directory("/d").uri(of: "Apple Red/1.jpg") == "file:///d/Apple%20Red/1.jpg")
    }
}
