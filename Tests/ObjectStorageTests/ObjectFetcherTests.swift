import Foundation
import ObjectStorage
import TestSupport
import Testing

/// Who is to blame decides what happens to an image: the image (missing,
/// oversized: a dead letter) or the service (no credentials, access denied:
/// the service stops and the image waits for a well-configured one).
@Suite("Object fetcher: the image's faults apart from the service's")
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
