import Crypto
import Foundation

extension SigV4Signer {
    /// The query of a presigned URL: `query` first, then the X-Amz-* parameters
    /// and the signature, in the order the AWS SDKs write them, each
    /// RFC 3986-encoded. Only `host` is signed; the payload is empty.
    public func presignedQuery(
        method: String = "GET", host: String, encodedPath: String = "/", query: [(String, String)], expires: Int, date: Date = Date()
    ) -> String {
        let (amzDate, day) = Self.timestamps(date)
        var authorization = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(day: day))"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { authorization.append(("X-Amz-Security-Token", token)) }
        let canonicalRequest = [
            method, encodedPath, Self.canonicalQuery(query + authorization), "host:\(host)\n", "host",
            Self.hex(SHA256.hash(data: [UInt8]())),
        ].joined(separator: "\n")
        let signature = signature(canonicalRequest: canonicalRequest, amzDate: amzDate, day: day)
        return (query + authorization + [("X-Amz-Signature", signature)])
            .map { S3URIEncoding.encode($0.0) + "=" + S3URIEncoding.encode($0.1) }.joined(separator: "&")
    }
}
