/// A request as the S3 client builds it: the body is in memory.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// A response body larger than this is not read: `HTTPResponseTooLarge`.
    public var maxResponseBytes: Int?

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [], maxResponseBytes: Int? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.maxResponseBytes = maxResponseBytes
    }
}

/// The response's body was larger than the request's `maxResponseBytes`;
/// `declaredBytes` is its Content-Length when the server sent one.
public struct HTTPResponseTooLarge: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let limit: Int
    public let declaredBytes: Int?
    public var description: String { "the response body is larger than \(limit) bytes" }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names lowercased; a repeated header keeps its last value.
    public let headers: [String: String]
    public let body: [UInt8]
}

/// The request never got an HTTP answer (connection refused or reset,
/// timeout, DNS...). `curlCode` is libcurl's CURLcode.
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    public let curlCode: Int32
    public let message: String
    public let url: String

    public var description: String { "HTTP request to \(url) failed: \(message) (curl \(curlCode))" }
}
