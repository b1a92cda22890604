import Foundation
import ObjectStorage
import TestSupport
import Testing

@Suite("SigV4 signing")
struct SigV4Tests {
    /// AWS's documented example "GET Bucket (List Objects)" of the S3 SigV4 guide.
    @Test func matchesAWSDocumentedExample() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let headers = signer.headers(
            method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/",
            query: [("prefix", "J"), ("max-keys", "2")], body: [], date: Date(timeIntervalSince1970: 1_369_353_600))
        let authorization = headers.first { $0.name == "Authorization" }?.value
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func queryIsSortedAndEncoded() {
        #expect(SigV4Signer.canonicalQuery([("uploads", ""), ("b", "x y"), ("a", "1+1=2/3")])
            == "a=1%2B1%3D2%2F3&b=x%20y&uploads=")
    }

    @Test func keysKeepSlashesOnly() {
        #expect(S3URIEncoding.encode("a b/ü+~.jpg", keepSlash: true) == "a%20b/%C3%BC%2B~.jpg")
    }

    @Test func credentialsComeFromEnvironmentThenProfile() throws {
        let fromEnvironment = try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        #expect(fromEnvironment.accessKeyID == "AK")
        #expect(!"\(fromEnvironment)".contains("SK"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(getpid())").path
        try "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[ci]\naws_access_key_id=C\naws_secret_access_key=CS\naws_session_token=T\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let profile = try AWSCredentials.fromEnvironment(["AWS_PROFILE": "ci", "AWS_SHARED_CREDENTIALS_FILE": file])
        #expect(profile.accessKeyID == "C" && profile.sessionToken == "T")
        #expect(throws: S3Error.self) { try AWSCredentials.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"]) }
    }
}
