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

    /// Who a failed GET concerns: what the extractor dead-letters (the
    /// object), stops for (the service), settles with evidence (a denial),
    /// or waits out.
    @Test func theBlameOfEachAnswer() {
        for (status, code) in [(401, "Unauthorized"), (403, "InvalidAccessKeyId"), (403, "SignatureDoesNotMatch"),
                               (403, "RequestTimeTooSkewed"), (400, "ExpiredToken"), (400, "AuthorizationHeaderMalformed")] {
            #expect(Self.http(status, code).blame == .service, "\(status) \(code)")
        }
        for (status, code) in [(403, "AccessDenied"), (400, "KMS.DisabledException"), (400, "KMS.NotFoundException"),
                               (403, "KMS.KMSInvalidStateException"), (403, "AllAccessDisabled")] {
            #expect(Self.http(status, code).blame == .denial, "\(status) \(code)")
        }
        for (status, code) in [(404, "NoSuchKey"), (404, "NoSuchBucket"), (403, "InvalidObjectState"), (400, "InvalidRequest"),
                               (400, "InvalidArgument"), (301, "PermanentRedirect"), (405, "MethodNotAllowed"), (416, "InvalidRange")] {
            #expect(Self.http(status, code).blame == .object, "\(status) \(code)")
        }
        for (status, code) in [(503, "SlowDown"), (500, "InternalError"), (307, "TemporaryRedirect"), (400, "KMS.ThrottlingException")] {
            #expect(Self.http(status, code).blame == .transient, "\(status) \(code)")
        }
        #expect(S3Error.missingCredentials(profile: "default", file: "~/.aws/credentials").blame == .service)
        #expect(S3Error.objectTooLarge(resource: "bucket/key", bytes: 10, limit: 1).blame == .object)
        #expect(S3Error.unreachable(HTTPTransportError(curlCode: 7, message: "refused", url: "http://127.0.0.1:9"), attempts: 5).blame == .transient)
    }

    /// The credentials hint goes with the service's refusals only, not with an archived object.
    @Test func hintsFitTheCode() {
        #expect("\(Self.http(403, "SignatureDoesNotMatch"))".contains("check the access key"))
        #expect("\(Self.http(403, "InvalidObjectState"))".contains("restore it first"))
        #expect(!"\(Self.http(403, "InvalidObjectState"))".contains("access key"))
        #expect("\(Self.http(301, "PermanentRedirect"))".contains("another region"))
        #expect("\(Self.http(400, "KMS.DisabledException"))".contains("KMS key"))
    }
}
