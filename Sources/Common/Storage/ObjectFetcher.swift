import Foundation

/// Reads the object an event's URI names: `s3://bucket/key` or `file:///path`.
public struct ObjectFetcher: Sendable {
    public enum FetchError: Error, CustomStringConvertible {
        case unsupportedURI(String)
        case missing(String, String)
        case tooLarge(String, bytes: Int, limit: Int)

        public var description: String {
            switch self {
            case .unsupportedURI(let uri): "cannot fetch \(uri): only s3:// and file:// URIs are supported"
            case .missing(let uri, let why): "cannot read \(uri): \(why)"
            case .tooLarge(let uri, let bytes, let limit): "\(uri) has \(bytes) bytes, above the limit of \(limit)"
            }
        }
    }

    public let s3: S3Client?
    public let maxBytes: Int

    public init(s3: S3Client?, maxBytes: Int = 50 << 20) {
        self.s3 = s3
        self.maxBytes = maxBytes
    }

    /// Throws `FetchError` for what retrying will not fix; other errors
    /// (S3 unreachable, 5xx after retries) are transient.
    public func fetch(_ uri: String) throws -> [UInt8] {
        if uri.hasPrefix("s3://") {
            guard let s3, case .s3(let bucket, let key) = try ObjectLocation(parsing: uri), !key.isEmpty else {
                throw FetchError.unsupportedURI(uri)
            }
            do {
                if let head = try s3.headObject(bucket: bucket, key: key) {
                    guard head.size <= maxBytes else { throw FetchError.tooLarge(uri, bytes: head.size, limit: maxBytes) }
                } else {
                    throw FetchError.missing(uri, "no such object")
                }
                return try s3.getObject(bucket: bucket, key: key)
            } catch let error as S3Error where error.status == 404 || error.status == 403 {
                throw FetchError.missing(uri, "\(error)")
            }
        }
        guard uri.hasPrefix("file://"), let url = URL(string: uri), url.isFileURL else { throw FetchError.unsupportedURI(uri) }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = attributes?[.size] as? Int else { throw FetchError.missing(uri, "no such file") }
        guard size <= maxBytes else { throw FetchError.tooLarge(uri, bytes: size, limit: maxBytes) }
        guard let data = FileManager.default.contents(atPath: url.path) else { throw FetchError.missing(uri, "unreadable") }
        return [UInt8](data)
    }
}
