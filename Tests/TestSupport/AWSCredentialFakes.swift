import Foundation
import ObjectStorage

/// tools/aws_credential_fakes.py: STS (moto), IMDSv2 and a container agent on
/// loopback, started once per test process; it exits when this process does.
public struct AWSCredentialFakes: Decodable, Sendable {
    public let sts: String
    public let metadata: String
    public let container: String
    /// What the container endpoint expects in the Authorization header.
    public static let containerToken = "container-token"

    public static let shared: Result<AWSCredentialFakes, any Error> = Result {
        let (process, input, line) = try Tools.startServer(script: "tools/aws_credential_fakes.py", log: "aws-credential-fakes.log")
        keepAlive = (process, input)
        return try JSONDecoder().decode(AWSCredentialFakes.self, from: line)
    }

    nonisolated(unsafe) private static var keepAlive: (Process, Pipe)?

    /// Credentials handed out so far by IMDS and the container endpoint.
    public func issued() throws -> Int {
        let response = try CurlHTTPClient().perform(HTTPRequest(method: "GET", url: metadata + "/count"))
        return Int(String(decoding: response.body, as: UTF8.self)) ?? -1
    }

    /// How long the next credentials last.
    public func setExpiry(seconds: Int) throws {
        _ = try CurlHTTPClient().perform(HTTPRequest(method: "GET", url: metadata + "/expires?expires=\(seconds)"))
    }
}
