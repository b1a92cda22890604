import Foundation

/// Where objects live: an S3 bucket and key prefix, or a local directory.
/// Parsed from `s3://bucket/prefix/`, `file:///path` or a plain path.
public enum ObjectLocation: Sendable, Equatable, CustomStringConvertible {
    case s3(bucket: String, prefix: String)
    case directory(String)

    public init(parsing text: String) throws {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            let bucket = rest.prefix { $0 != "/" }
            guard !bucket.isEmpty else { throw S3Error.invalidLocation(text) }
            let prefix = rest.dropFirst(bucket.count).drop { $0 == "/" }
            self = .s3(bucket: String(bucket), prefix: String(prefix))
        } else if text.hasPrefix("file://") {
            guard let url = URL(string: text), url.isFileURL else { throw S3Error.invalidLocation(text) }
            self = .directory(url.path)
        } else if text.contains("://") {
            throw S3Error.invalidLocation(text)
        } else {
            self = .directory(URL(fileURLWithPath: text).standardizedFileURL.path)
        }
    }

    /// The URI of `key` below this location, as events carry it.
    public func uri(of key: String) -> String {
        switch self {
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(Self.join(prefix, key))"
        case .directory(let path): URL(fileURLWithPath: path).appendingPathComponent(key).absoluteString
        }
    }

    public var description: String {
        switch self {
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        case .directory(let path): path
        }
    }

    static func join(_ prefix: String, _ key: String) -> String {
        guard !prefix.isEmpty else { return key }
        return prefix.hasSuffix("/") ? prefix + key : prefix + "/" + key
    }
}
