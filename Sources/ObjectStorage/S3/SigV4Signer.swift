import Crypto
import Foundation

/// AWS Signature Version 4 (service "s3" unless told): canonical request,
/// string to sign, derived signing key, `Authorization` header, or the query
/// of a presigned URL (`presignedQuery`). The payload is always hashed (no
/// UNSIGNED-PAYLOAD).
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to a request for `host` (with its port when not
    /// the scheme's default), path and query as they will be sent.
    public func headers(
        method: String, host: String, encodedPath: String, query: [(String, String)], body: [UInt8], date: Date = Date()
    ) -> [(name: String, value: String)] {
        let (amzDate, day) = Self.timestamps(date)
        let payloadHash = Self.hex(SHA256.hash(data: body))
        var signed: [(String, String)] = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        signed.sort { $0.0 < $1.0 }

        let canonicalRequest = [
            method,
            encodedPath,
            Self.canonicalQuery(query),
            signed.map { "\($0.0):\($0.1.trimmingCharacters(in: .whitespaces))\n" }.joined(),
            signed.map(\.0).joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
        let scope = scope(day: day)
        let signature = signature(canonicalRequest: canonicalRequest, amzDate: amzDate, day: day)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signed.map(\.0).joined(separator: ";")), Signature=\(signature)"
        return signed.filter { $0.0 != "host" }.map { ($0.0, $0.1) } + [("Authorization", authorization)]
    }

    func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    /// The hex HMAC of the string to sign, with the key derived for `day`.
    func signature(canonicalRequest: String, amzDate: String, day: String) -> String {
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope(day: day))\n\(Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))))"
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// Sorted by encoded name, then value; both RFC 3986-encoded.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (S3URIEncoding.encode($0.0), S3URIEncoding.encode($0.1)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let day = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return (day + String(format: "T%02d%02d%02dZ", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)), day)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// Percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - . _ ~
/// (and '/' in object paths) as %XX with upper-case hex.
public enum S3URIEncoding {
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                result.append("/")
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}
