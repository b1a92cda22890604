/// An S3 failure. HTTP errors carry S3's own error code (`NoSuchKey`,
/// `SignatureDoesNotMatch`, `AccessDenied`, ...).
public enum S3Error: Error, CustomStringConvertible, Sendable {
    case http(status: Int, code: String, message: String, resource: String)
    case unreachable(HTTPTransportError, attempts: Int)
    /// `instanceMetadata`: why the instance metadata service, looked at last, gave none.
    case missingCredentials(profile: String, file: String, instanceMetadata: String? = nil)
    /// A role's credentials could not be had from `source` (STS, the container agent, IMDS).
    case credentialSource(String, String)
    case invalidLocation(String)
    case invalidResponse(String)
    /// Larger than the caller accepts; `bytes` when the server declared it.
    case objectTooLarge(resource: String, bytes: Int?, limit: Int)

    public var code: String? {
        if case .http(_, let code, _, _) = self { return code }
        return nil
    }

    /// No credentials could be had: the operator must configure them.
    public var isMissingCredentials: Bool {
        switch self {
        case .missingCredentials, .credentialSource: true
        default: false
        }
    }

    /// Whether the same request may succeed later without anyone acting:
    /// throttling (429, `SlowDown`), a server error, an error in a 200 answer
    /// (CompleteMultipartUpload), an endpoint that did not answer. A denied
    /// or missing object, bad credentials or a bad location will not.
    public var isRetriable: Bool {
        switch self {
        case .http(let status, _, _, _): status == 200 || Self.retriableStatuses.contains(status)
        case .unreachable: true
        default: false
        }
    }

    static let retriableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    public var status: Int? {
        if case .http(let status, _, _, _) = self { return status }
        return nil
    }

    public var description: String {
        switch self {
        case .http(let status, let code, let message, let resource):
            return "S3 \(resource): HTTP \(status) \(code): \(message)" + (hint.map { " — \($0)" } ?? "")
        case .unreachable(let error, let attempts):
            return "S3 unreachable after \(attempts) attempts: \(error) — check --s3-endpoint/AWS_ENDPOINT_URL"
        case .missingCredentials(let profile, let file, let instanceMetadata):
            return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, or profile [\(profile)] in \(file)"
                + (instanceMetadata.map { "; the instance metadata service gave none either (\($0))" } ?? "")
        case .credentialSource(let source, let why):
            return "no AWS credentials from \(source): \(why)"
        case .invalidLocation(let location):
            return "\(location) is not an s3://bucket/prefix, a file: URL or a directory"
        case .invalidResponse(let why):
            return "unexpected S3 response: \(why)"
        case .objectTooLarge(let resource, let bytes, let limit):
            return "S3 \(resource) has " + (bytes.map { "\($0) bytes" } ?? "more bytes") + ", above the limit of \(limit)"
        }
    }
}
