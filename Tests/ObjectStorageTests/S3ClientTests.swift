import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ObjectStorage

// One test at a time: the fault proxy's pattern (fail, drop, pass) counts the
// requests of every test that uses it.
@Suite("S3 over libcurl with SigV4, against moto on loopback", .tags(.integration), .serialized)
struct S3ClientTests {
    static func bucket(_ name: String) async throws -> (S3Client, String) {
        let client = try await S3TestServer.shared().client()
        let bucket = "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        return (client, bucket)
    }

    @Test func fifteenHundredKeysAcrossPages() async throws {
        let (client, bucket) = try await Self.bucket("paging")
        let keys = (0..<1500).map { String(format: "Test/label-%02d/%04d_100.jpg", $0 % 7, $0) }
        try await client.putAll(keys, bucket: bucket) { Array($0.utf8) }
        let first = try await client.listObjects(bucket: bucket, prefix: "Test/")
        #expect(first.objects.count == 1000)
        #expect(first.nextContinuationToken != nil)
        let all = try await client.listAllObjects(bucket: bucket, prefix: "Test/")
        #expect(all.map(\.key) == keys.sorted())
        #expect(try await client.getObject(bucket: bucket, key: keys[1234]) == Array(keys[1234].utf8))
        #expect(try await client.listAllObjects(bucket: bucket, prefix: "Test/label-03/").count == keys.filter { $0.contains("label-03/") }.count)
    }

    @Test(arguments: ["dir with space/a+b=c&d?.jpg", "unicodé/🍎 äpple.jpg", "percent%20literal.jpg", "tilde~star*(1)'.jpg", "a//double/slash.jpg"])
    func awkwardKeysRoundTrip(key: String) async throws {
        let (client, bucket) = try await Self.bucket("keys")
        let body = Array("bytes of \(key)".utf8)
        try await client.putObject(bucket: bucket, key: key, body: body)
        #expect(try await client.getObject(bucket: bucket, key: key) == body)
        #expect(try await client.headObject(bucket: bucket, key: key)?.size == body.count)
        #expect(try await client.listAllObjects(bucket: bucket, prefix: String(key.prefix(6))).map(\.key) == [key])
        try await client.deleteObject(bucket: bucket, key: key)
        #expect(try await client.headObject(bucket: bucket, key: key) == nil)
    }

    @Test func fiftyMegabytesGoUpInParts() async throws {
        let (client, bucket) = try await Self.bucket("multipart")
        var generator = SplitMix64(seed: 7)
        let body = (0..<(50 << 20) / 8).flatMap { _ in withUnsafeBytes(of: generator.next(), Array.init) }
        let etag = try await client.putObject(bucket: bucket, key: "big/photo.bin", body: body)
        // A multipart ETag ends in -<number of parts>: 50 MiB in 8 MiB parts is 7.
        #expect(etag?.hasSuffix("-7\"") == true, "etag \(etag ?? "nil")")
        #expect(try await client.headObject(bucket: bucket, key: "big/photo.bin")?.size == body.count)
        #expect(try await client.getObject(bucket: bucket, key: "big/photo.bin") == body)
        #expect(try await client.getObject(bucket: bucket, key: "big/photo.bin", range: 1000...1009) == Array(body[1000...1009]))
    }

    /// A GET reads no more than the caller accepts, whatever the object's size.
    @Test func getIsBoundedByTheCallersLimit() async throws {
        let (client, bucket) = try await Self.bucket("bounded")
        let body = [UInt8](repeating: 7, count: 3 << 20)
        try await client.putObject(bucket: bucket, key: "big.jpg", body: body)
        await #expect {
            try await client.getObject(bucket: bucket, key: "big.jpg", maxBytes: 1 << 20)
        } throws: { error in
            guard case S3Error.objectTooLarge(_, let bytes, let limit) = error else { return false }
            return bytes == 3 << 20 && limit == 1 << 20
        }
        #expect(try await client.getObject(bucket: bucket, key: "big.jpg", maxBytes: 3 << 20) == body)
    }

    /// S3 may answer CompleteMultipartUpload with 200 and an <Error> body; the
    /// proxy does so for every upload's first complete, which must be retried.
    @Test func aCompleteAnsweredWithAnErrorIn200IsRetried() async throws {
        let server = try await S3TestServer.shared()
        let (direct, bucket) = try await Self.bucket("complete")
        var configuration = try server.client(endpoint: server.faultyEndpoint).configuration
        configuration.multipartThreshold = 5 << 20
        configuration.partSize = 5 << 20
        let client = S3Client(configuration: configuration)
        let body = (0..<(11 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await client.putObject(bucket: bucket, key: "parts.bin", body: body)
        #expect(try await direct.getObject(bucket: bucket, key: "parts.bin") == body)
    }

    /// Uploads a crashed writer left open are aborted under the given prefix
    /// only. (moto lists every upload as initiated in 2010, so the time
    /// filter is not exercised here; the directory store's test covers it.)
    @Test func incompleteUploadsAreAbortedUnderAPrefix() async throws {
        let (client, bucket) = try await Self.bucket("orphans")
        for key in ["Results/features/a.parquet", "Results/pca/b.parquet", "photos/c.jpg"] {
            _ = try await client.createMultipartUpload(bucket: bucket, key: key, contentType: "application/octet-stream")
        }
        #expect(S3Client.parseTimestamp("2026-11-26T13:02:32.000Z") == Date(timeIntervalSince1970: 1_795_698_152))
        #expect(try await client.abortIncompleteUploads(bucket: bucket, prefix: "Results/", startedBefore: Date() + 60) == 2)
        #expect(try await client.abortIncompleteUploads(bucket: bucket, prefix: "Results/", startedBefore: Date() + 60) == 0)
        #expect(try await client.abortIncompleteUploads(bucket: bucket, prefix: "photos/", startedBefore: Date() + 60) == 1)
    }

    @Test func wrongSecretIsATyped403() async throws {
        let server = try await S3TestServer.shared()
        let (_, bucket) = try await Self.bucket("auth")
        let impostor = try server.client(secret: "not-the-secret")
        await #expect {
            try await impostor.putObject(bucket: bucket, key: "x", body: [1])
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.status == 403 && error.code == "SignatureDoesNotMatch"
        }
    }

    @Test func missingKeyIsNoSuchKey() async throws {
        let (client, bucket) = try await Self.bucket("missing")
        await #expect {
            try await client.getObject(bucket: bucket, key: "nope.jpg")
        } throws: { error in
            (error as? S3Error)?.code == "NoSuchKey"
        }
    }

    @Test func twoFailuresInThreeAreRetriedAway() async throws {
        let server = try await S3TestServer.shared()
        let (_, bucket) = try await Self.bucket("faults")
        let client = try server.client(endpoint: server.faultyEndpoint)
        for index in 0..<10 {
            let body = Array("attempt \(index)".utf8)
            try await client.putObject(bucket: bucket, key: "k\(index)", body: body)
            #expect(try await client.getObject(bucket: bucket, key: "k\(index)") == body)
        }
        #expect(try await client.listAllObjects(bucket: bucket, prefix: "k").count == 10)
        #expect(client.retries >= 20, "the proxy injected faults, so the client must have retried")
    }

    @Test func unreachableEndpointGivesUpWithAClearError() async throws {
        let server = try await S3TestServer.shared()
        let client = try server.client(endpoint: "http://127.0.0.1:1", attempts: 3)
        await #expect {
            try await client.getObject(bucket: "b", key: "k")
        } throws: { error in
            guard case .unreachable(_, let attempts) = error as? S3Error else { return false }
            return attempts == 3 && "\(error)".contains("AWS_ENDPOINT_URL")
        }
    }
}

extension S3ClientTests {
    /// Keys with dot segments and empty segments are objects of their own:
    /// they must be signed and sent byte for byte, not normalised on the way.
    @Test(arguments: ["Test/a/./b.jpg", "Test/a/../b.jpg", "Test//c.jpg", "Test/./../d.jpg"])
    func dotSegmentKeysRoundTripExactly(key: String) async throws {
        let (client, bucket) = try await Self.bucket("dots")
        try await client.putObject(bucket: bucket, key: key, body: Array(key.utf8))
        #expect(try await client.getObject(bucket: bucket, key: key) == Array(key.utf8))
        #expect(try await client.listObjects(bucket: bucket, prefix: "Test/").objects.map(\.key) == [key])
    }
}
