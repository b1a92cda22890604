import Common
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

    /// The fakes, started by the first caller (on a blocking-I/O thread, as
    /// `S3TestServer`); the others await the same start.
    public static func shared() async throws -> AWSCredentialFakes { try await starting.value }

    private static let starting = Task {
        try await BlockingIOPool.shared.run {
            let (process, input, line) = try Tools.startServer(script: "tools/aws_credential_fakes.py", log: "aws-credential-fakes.log")
            keepAlive = (process, input)
            return try JSONDecoder().decode(AWSCredentialFakes.self, from: line)
        }
    }

    nonisolated(unsafe) private static var keepAlive: (Process, Pipe)?

    /// Credentials handed out so far by IMDS and the container endpoint.
    public func issued() async throws -> Int {
        let response = try await Tools.http.perform(HTTPRequest(method: "GET", url: metadata + "/count"))
        return Int(String(decoding: response.body, as: UTF8.self)) ?? -1
    }

    /// How long the next credentials last.
    public func setExpiry(seconds: Int) async throws {
        _ = try await Tools.http.perform(HTTPRequest(method: "GET", url: metadata + "/expires?expires=\(seconds)"))
    }
}
