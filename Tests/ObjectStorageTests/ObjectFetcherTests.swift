import Foundation
import ObjectStorage
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

/// Who is to blame decides what happens to an image: the image (missing,
/// oversized: a dead letter) or the service (no credentials, access denied:
/// the service stops and the image waits for a well-configured one).
@Suite("Object fetcher: the image's faults apart from the service's", .tags(.integration))
struct ObjectFetcherTests {
    @Test func aMissingObjectIsTheImagesFault() async throws {
        let (client, bucket) = try await S3ClientTests.bucket("fetcher")
        let fetcher = ObjectFetcher(s3: .success(client))
        await #expect(throws: ObjectFetcher.FetchError.self) { try await fetcher.fetch("s3://\(bucket)/Test/none.jpg") }
        try await client.putObject(bucket: bucket, key: "Test/a.jpg", body: [1, 2, 3])
        #expect(try await fetcher.fetch("s3://\(bucket)/Test/a.jpg") == [1, 2, 3])
    }

    @Test func accessDeniedIsTheServicesFaultAndMayBeRetried() async throws {
        let (client, bucket) = try await S3ClientTests.bucket("fetcher")
        try await client.putObject(bucket: bucket, key: "Test/a.jpg", body: [1, 2, 3])
        let wrongSecret = try await S3TestServer.shared().client(secret: "not-the-secret", attempts: 1)
        let error = await #expect(throws: ObjectFetcher.ServiceError.self) {
            try await ObjectFetcher(s3: .success(wrongSecret)).fetch("s3://\(bucket)/Test/a.jpg")
        }
        #expect(error?.isRetriable == true)
    }

    @Test func noS3ClientIsTheServicesFaultAndFinal() async throws {
        let missing = S3Error.missingCredentials(profile: "default", file: "/nonexistent")
        let error = await #expect(throws: ObjectFetcher.ServiceError.self) {
            try await ObjectFetcher(s3: .failure(missing)).fetch("s3://bucket/Test/a.jpg")
        }
        #expect(error?.isRetriable == false)
        #expect("\(error!)".contains("no AWS credentials"))
        await #expect(throws: ObjectFetcher.FetchError.self) { try await ObjectFetcher.localFiles().fetch("file:///nonexistent/a.jpg") }
    }
}

/// What only one object is to blame for becomes that object's fault; what
/// every object would meet is the service's.
@Suite("Object fetcher: faults of one object, per key", .tags(.integration))
struct ObjectFaultTests {
    static let faults: [String: S3TestServer.Fault] = [
        "archived.jpg": .init(403, "InvalidObjectState", "The operation is not valid for the object's storage class"),
        "customer-key.jpg": .init(400, "InvalidRequest", "The object was stored using a form of Server Side Encryption"),
        "elsewhere.jpg": .init(301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint"),
    ]
    static let denials: [String: S3TestServer.Fault] = [
        "kms.jpg": .init(403, "AccessDenied", "The ciphertext refers to a customer master key that does not exist"),
        "disabled-key.jpg": .init(400, "KMS.DisabledException", "The key is disabled"),
    ]

    /// A bucket with one good object, Test/good.jpg, read through the fault endpoint.
    static func bucket(_ name: String) async throws -> (server: S3TestServer, bucket: String, fetcher: ObjectFetcher) {
        let server = try await S3TestServer.shared()
        let (client, bucket) = try await S3ClientTests.bucket(name)
        try await client.putObject(bucket: bucket, key: "Test/good.jpg", body: [1, 2, 3])
        return (server, bucket, ObjectFetcher(s3: .success(try server.client(endpoint: server.faultEndpoint)), deniedObjectsForLoss: 3))
    }

    @Test func anObjectsOwnRefusalIsItsFaultAskedOnce() async throws {
        let (server, bucket, fetcher) = try await Self.bucket("refused")
        try await server.fail(Dictionary(uniqueKeysWithValues: Self.faults.map { ("\(bucket)/Test/\($0.key)", $0.value) }))
        for (key, fault) in Self.faults {
            let error = await #expect(throws: ObjectFetcher.FetchError.self) { try await fetcher.fetch("s3://\(bucket)/Test/\(key)") }
            #expect("\(error!)".contains(fault.code))
            #expect(try await server.requests("\(bucket)/Test/\(key)") == 1, "a refusal of the object is not retried by the client")
        }
        await #expect(throws: ObjectFetcher.FetchError.self) { try await fetcher.fetch("s3://\(bucket)/Test/none.jpg") }
        #expect(try await fetcher.fetch("s3://\(bucket)/Test/good.jpg") == [1, 2, 3])
    }

    /// A denied object, while the object read before is still granted, is the object's fault.
    @Test func aDenialWhileAccessWorksIsTheObjects() async throws {
        let (server, bucket, fetcher) = try await Self.bucket("denied")
        try await server.fail(Dictionary(uniqueKeysWithValues: Self.denials.map { ("\(bucket)/Test/\($0.key)", $0.value) }))
        #expect(try await fetcher.fetch("s3://\(bucket)/Test/good.jpg") == [1, 2, 3])
        for key in Self.denials.keys.sorted() {
            let denial = try await #require(throws: ObjectFetcher.AccessDenied.self) { try await fetcher.fetch("s3://\(bucket)/Test/\(key)") }
            guard case .object(let error) = await fetcher.verdict(on: denial) else {
                Issue.record("\(key): blamed on the service")
                continue
            }
            #expect("\(error)".contains("still granted"), "\(error)")
        }
    }

    /// Every object denied, the one read before too: access is lost, the service's fault.
    @Test func aDenialOfEveryObjectIsTheServices() async throws {
        let (server, bucket, fetcher) = try await Self.bucket("lost")
        #expect(try await fetcher.fetch("s3://\(bucket)/Test/good.jpg") == [1, 2, 3])
        try await server.fail(["\(bucket)/*": .init(403, "AccessDenied", "Access Denied")])
        let denial = try await #require(throws: ObjectFetcher.AccessDenied.self) { try await fetcher.fetch("s3://\(bucket)/Test/other.jpg") }
        guard case .service(let error) = await fetcher.verdict(on: denial) else {
            Issue.record("blamed on the object")
            return
        }
        #expect("\(error)".contains("refused too"), "\(error)")
    }

    /// With nothing read from the bucket to probe: a few denied objects are
    /// theirs, `deniedObjectsForLoss` distinct ones in a row are the service's.
    @Test func withoutAProbeDenialsInARowDecide() async throws {
        let (server, bucket, fetcher) = try await Self.bucket("streak")
        try await server.fail(["\(bucket)/*": .init(403, "AccessDenied", "Access Denied")])
        var verdicts: [String] = []
        for key in ["a.jpg", "b.jpg", "a.jpg", "c.jpg"] {
            let denial = try await #require(throws: ObjectFetcher.AccessDenied.self) { try await fetcher.fetch("s3://\(bucket)/Test/\(key)") }
            switch await fetcher.verdict(on: denial) {
            case .object: verdicts.append("object")
            case .service: verdicts.append("service")
            }
        }
        #expect(verdicts == ["object", "object", "object", "service"])
    }
}

@Suite("Object fetcher: local files, bounded and regular only")
struct LocalFileFetchTests {
    /// Each is refused from fstat, before a byte is read: /dev/zero would be
    /// read without end, a FIFO would wait for a writer.
    @Test(.timeLimit(.minutes(1)))
    func devicesFIFOsAndDirectoriesAreRefusedUnread() async throws {
        let directory = Tools.temporaryPath("special-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fifo = directory + "/fifo.jpg", link = directory + "/zero.jpg"
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
        let fetcher = ObjectFetcher.localFiles()
        for (uri, kind) in [("file:///dev/zero", "character device"), (URL(fileURLWithPath: fifo).absoluteString, "FIFO"),
                            (URL(fileURLWithPath: directory).absoluteString, "directory"), (URL(fileURLWithPath: link).absoluteString, "character device")] {
            let error = await #expect(throws: ObjectFetcher.FetchError.self) { try await fetcher.fetch(uri) }
            #expect("\(error.map { "\($0)" } ?? "")".contains(kind), "\(uri)")
        }
    }

    @Test func aFileIsReadUpToTheLimitAndNotAByteMore() async throws {
        let directory = Tools.temporaryPath("sizes-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fits = directory + "/fits.jpg", over = directory + "/over.jpg"
        FileManager.default.createFile(atPath: fits, contents: Data(repeating: 7, count: 1000))
        FileManager.default.createFile(atPath: over, contents: Data(repeating: 7, count: 1001))
        let fetcher = ObjectFetcher.localFiles(maxBytes: 1000)
        #expect(try await fetcher.fetch(URL(fileURLWithPath: fits).absoluteString) == [UInt8](repeating: 7, count: 1000))
        let error = await #expect(throws: ObjectFetcher.FetchError.self) { try await fetcher.fetch(URL(fileURLWithPath: over).absoluteString) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("above the limit of 1000"))
    }
}
