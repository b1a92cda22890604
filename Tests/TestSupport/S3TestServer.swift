import Common
import Foundation
import ObjectStorage

/// The loopback S3 server of tools/s3_test_server.py (moto with SigV4
/// checking, and a fault-injecting proxy), started once per test process.
/// It exits when this process does (its stdin closes).
public struct S3TestServer: Decodable, Sendable {
    public let endpoint: String
    public let faultyEndpoint: String
    /// Forwards every request but those of objects told to fail (`fail(_:)`).
    public let faultEndpoint: String
    public let accessKey: String
    public let secretKey: String
    public let region: String

    enum CodingKeys: String, CodingKey {
        case endpoint, region
        case faultyEndpoint = "faulty_endpoint"
        case faultEndpoint = "fault_endpoint"
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

extension S3TestServer {
    /// S3's answer to a request the fault endpoint fails.
    public struct Fault: Encodable, Sendable {
        public let status: Int
        public let code: String
        public let message: String

        public init(_ status: Int, _ code: String, _ message: String = "injected") {
            self.status = status
            self.code = code
            self.message = message
        }
    }

    /// From now on the fault endpoint answers every request of `bucket/key`
    /// (or, with key "*", of every object of the bucket) with its fault.
    public func fail(_ faults: [String: Fault]) async throws {
        let rules = Dictionary(uniqueKeysWithValues: faults.map { ("/" + $0.key, $0.value) })
        let response = try await Tools.http.perform(HTTPRequest(method: "POST", url: faultEndpoint + "/_faults",
                                                                headers: [("Content-Type", "application/json")],
                                                                body: Array(try JSONEncoder().encode(rules))))
        guard response.status == 200 else { throw TestServerError(message: "the fault endpoint answered \(response.status)") }
    }

    /// The requests the fault endpoint has had for `bucket/key`.
    public func requests(_ object: String) async throws -> Int {
        let response = try await Tools.http.perform(HTTPRequest(method: "GET", url: faultEndpoint + "/_faults?path=/" + object))
        struct Count: Decodable { let requests: Int }
        return try JSONDecoder().decode(Count.self, from: Data(response.body)).requests
    }
}
