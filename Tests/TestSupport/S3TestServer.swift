import Common
import Foundation
import ObjectStorage

/// The loopback S3 server of tools/s3_test_server.py (moto with SigV4
/// checking, and a fault-injecting proxy), started once per test process.
/// It exits when this process does (its stdin closes).
public struct S3TestServer: Decodable, Sendable {
    public let endpoint: String
    public let faultyEndpoint: String
    public let accessKey: String
    public let secretKey: String
    public let region: String

    enum CodingKeys: String, CodingKey {
        case endpoint, region
        case faultyEndpoint = "faulty_endpoint"
        case accessKey = "access_key"
        case secretKey = "secret_key"
    }

    /// The server, started by the first caller; the others await the same start.
    public static func shared() async throws -> S3TestServer { try await starting.value }

    // Started on a blocking-I/O thread: moto takes seconds to come up, and a
    // test waiting for it must not hold one of the cooperative pool's threads.
    private static let starting = Task { try await BlockingIOPool.shared.run(start) }

    private static func start() throws -> S3TestServer {
        // moto's request log goes to s3-test-server.log, for when a test needs explaining.
        let (process, input, line) = try Tools.startServer(script: "tools/s3_test_server.py", log: "s3-test-server.log")
        keepAlive = (process, input)
        return try JSONDecoder().decode(S3TestServer.self, from: line)
    }

    nonisolated(unsafe) private static var keepAlive: (Process, Pipe)?

    public func client(endpoint: String? = nil, secret: String? = nil, attempts: Int = 5) throws -> S3Client {
        let credentials = AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret ?? secretKey)
        var configuration = S3Configuration(region: region, credentials: credentials,
                                            endpoint: try .init(url: endpoint ?? self.endpoint))
        configuration.retry.attempts = attempts
        configuration.retry.baseDelay = .milliseconds(20)
        return S3Client(configuration: configuration)
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension S3TestServer {
    /// AWS_* variables for child processes talking to this server.
    public var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_REGION": region,
         "AWS_ENDPOINT_URL": endpoint]
    }
}
