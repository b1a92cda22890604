import Common
import Foundation

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

    public static let shared: Result<S3TestServer, any Error> = Result(catching: start)

    private static func start() throws -> S3TestServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.python)
        process.arguments = [Tools.root.appendingPathComponent("tools/s3_test_server.py").path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        // moto's request log, for when a test needs explaining.
        let log = Tools.temporaryPath("s3-test-server.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        keepAlive = (process, input)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestServerError(message: "s3_test_server.py exited; run scripts/setup") }
            line += chunk
        }
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
