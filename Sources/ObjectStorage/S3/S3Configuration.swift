import Foundation

/// Where and as whom to talk S3. `fromEnvironment` follows the AWS
/// conventions: `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` (a custom endpoint
/// such as MinIO, addressed path-style), `AWS_REGION`/`AWS_DEFAULT_REGION`,
/// and the credential chain of `AWSCredentialChain`.
public struct S3Configuration: Sendable {
    public struct Endpoint: Sendable {
        public let scheme: String
        public let host: String
        public let port: Int?

        public init(url: String) throws {
            guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host,
                  scheme == "http" || scheme == "https"
            else { throw S3Error.invalidLocation(url) }
            self.scheme = scheme
            self.host = host
            self.port = components.port
        }

        /// The Host header: the port only when it is not the scheme's default.
        var hostHeader: String {
            guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return host }
            return "\(host):\(port)"
        }
    }

    public struct Retry: Sendable {
        public var attempts = 5
        public var baseDelay: Duration = .milliseconds(100)
        public var maximumDelay: Duration = .seconds(5)
        public init() {}
    }

    public var region: String
    public var credentials: any AWSCredentialProvider
    /// nil: AWS itself, virtual-hosted addressing.
    public var endpoint: Endpoint?
    public var retry = Retry()
    /// Objects at least this large are uploaded in parts.
    public var multipartThreshold = 16 << 20
    public var partSize = 8 << 20

    public init(region: String, credentials: any AWSCredentialProvider, endpoint: Endpoint? = nil) {
        self.region = region
        self.credentials = credentials
        self.endpoint = endpoint
    }

    /// The custom endpoint named by `override`, else `AWS_ENDPOINT_URL_S3`,
    /// else `AWS_ENDPOINT_URL`; an empty value counts as unset, as in the AWS SDKs.
    public static func endpointURL(
        override: String? = nil, _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        [override, environment["AWS_ENDPOINT_URL_S3"], environment["AWS_ENDPOINT_URL"]].lazy.compactMap { $0 }.first { !$0.isEmpty }
    }

    public static func fromEnvironment(
        endpoint override: String? = nil, _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3Configuration {
        let endpoint = endpointURL(override: override, environment)
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        return S3Configuration(
            region: region, credentials: try AWSCredentialChain.fromEnvironment(environment),
            endpoint: try endpoint.map(Endpoint.init(url:)))
    }
}
