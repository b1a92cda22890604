import Foundation

/// An Amazon MSK IAM authentication token, what a client sends as its
/// SASL/OAUTHBEARER token: a SigV4-presigned GET of
/// `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect`
/// (service `kafka-cluster`, valid `lifetime` seconds), to which a
/// `User-Agent` parameter is appended after signing, as base64url without
/// padding. `aws-msk-iam-sasl-signer-python` makes the same token from the
/// same inputs (`MSKIAMTokenTests` hold them equal).
public struct MSKIAMToken: Sendable, CustomStringConvertible {
    public static let lifetime = 900
    /// What MSK sees as the client; kept to characters that both this
    /// encoder and Python's urlencode leave as they are or encode alike.
    public static let defaultUserAgent = "fruits-msk-iam/1"

    /// A bearer credential: whoever holds it may connect as the signer for
    /// `lifetime` seconds. Never logged.
    public let value: String
    /// `lifetime` after the signing second, or when the credentials expire if earlier.
    public let expiry: Date

    public init(credentials: AWSCredentials, region: String, date: Date = Date(), userAgent: String = defaultUserAgent) throws {
        guard Self.isRegion(region) else { throw MSKIAMTokenError.invalidRegion(region) }
        let signer = SigV4Signer(credentials: credentials, region: region, service: "kafka-cluster")
        let query = signer.presignedQuery(
            host: "kafka.\(region).amazonaws.com", query: [("Action", "kafka-cluster:Connect")], expires: Self.lifetime, date: date)
        let url = "https://kafka.\(region).amazonaws.com/?\(query)&User-Agent=\(S3URIEncoding.encode(userAgent))"
        value = Data(url.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let signed = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        expiry = min(signed.addingTimeInterval(TimeInterval(Self.lifetime)), credentials.expiration ?? .distantFuture)
    }

    /// Never shows the value.
    public var description: String { "MSKIAMToken(expires: \(expiry), value: ***)" }

    /// An AWS region name (`eu-west-1`): lower-case letters, digits and
    /// hyphens, as it becomes part of a host name.
    public static func isRegion(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}

public enum MSKIAMTokenError: Error, CustomStringConvertible, Sendable {
    case invalidRegion(String)

    public var description: String {
        switch self {
        case .invalidRegion(let region): "\(region.debugDescription) is not an AWS region name such as eu-west-1"
        }
    }
}
