import Testing

@testable import ObjectStorage

@Suite("S3Error: what is worth retrying")
struct S3ErrorTests {
    static func http(_ status: Int, _ code: String) -> S3Error {
        .http(status: status, code: code, message: "", resource: "bucket/key")
    }

    @Test func throttlingServerErrorsAndSilenceAreRetriable() {
        #expect(Self.http(503, "SlowDown").isRetriable)
        #expect(Self.http(429, "TooManyRequests").isRetriable)
        #expect(Self.http(500, "InternalError").isRetriable)
        // CompleteMultipartUpload may answer 200 with an <Error> body; AWS says retry it.
        #expect(Self.http(200, "InternalError").isRetriable)
        #expect(S3Error.unreachable(HTTPTransportError(curlCode: 7, message: "connection refused", url: "http://127.0.0.1:9"), attempts: 5).isRetriable)
    }

    @Test func deniedMissingAndMisconfiguredAreNot() {
        #expect(!Self.http(403, "AccessDenied").isRetriable)
        #expect(!Self.http(404, "NoSuchKey").isRetriable)
        #expect(!Self.http(412, "PreconditionFailed").isRetriable)
        #expect(!S3Error.missingCredentials(profile: "default", file: "~/.aws/credentials").isRetriable)
        #expect(!S3Error.invalidLocation("nowhere").isRetriable)
        #expect(!S3Error.objectTooLarge(resource: "bucket/key", bytes: 10, limit: 1).isRetriable)
    }
}
