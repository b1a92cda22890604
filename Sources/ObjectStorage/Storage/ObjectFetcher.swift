import Common
import Foundation

/// Reads the object an event's URI names: `s3://bucket/key` or `file:///path`.
public struct ObjectFetcher: Sendable {
    /// The image is to blame: no retry will fix it, so it gets a dead letter.
    public enum FetchError: Error, CustomStringConvertible {
        case unsupportedURI(String)
        case missing(String, String)
        case tooLarge(String, bytes: Int?, limit: Int)

        public var description: String {
            switch self {
            case .unsupportedURI(let uri): "cannot fetch \(uri): only s3:// and file:// URIs are supported"
            case .missing(let uri, let why): "cannot read \(uri): \(why)"
            case .tooLarge(let uri, let bytes, let limit): "\(uri) has " + (bytes.map { "\($0) bytes" } ?? "more bytes") + ", above the limit of \(limit)"
            }
        }
    }

    /// The service is to blame (its credentials, its permissions): the image
    /// is fine and must not be dead-lettered; the operator has to act.
    public enum ServiceError: Error, CustomStringConvertible {
        /// No S3 client could be made (no credentials, a bad endpoint).
        case s3Unavailable(uri: String, reason: String)
        /// 401/403: wrong or expired credentials, a missing permission.
        case accessDenied(uri: String, S3Error)

        /// Access may come back (rotated keys, a role still propagating);
        /// missing credentials will not.
        public var isRetriable: Bool {
            if case .accessDenied = self { return true }
            return false
        }

        public var description: String {
            switch self {
            case .s3Unavailable(let uri, let reason): "cannot fetch \(uri): \(reason)"
            case .accessDenied(let uri, let error): "S3 denied access to \(uri): \(error)"
            }
        }
    }

    private let s3: Result<S3Client, any Error>
    public let maxBytes: Int

    /// `s3` is the client for s3:// URIs, or why there is none.
    public init(s3: Result<S3Client, any Error>, maxBytes: Int = 50 << 20) {
        self.s3 = s3
        self.maxBytes = maxBytes
    }

    /// A fetcher of file:// URIs only.
    public static func localFiles(maxBytes: Int = 50 << 20) -> ObjectFetcher {
        ObjectFetcher(s3: .failure(NoS3Client()), maxBytes: maxBytes)
    }

    private struct NoS3Client: Error, CustomStringConvertible {
        var description: String { "this fetcher reads file:// URIs only" }
    }

    /// Throws `FetchError` when the image is to blame, `ServiceError` when
    /// the service is; other errors (S3 unreachable, 5xx after retries) are
    /// transient.
    public func fetch(_ uri: String) async throws -> [UInt8] {
        if uri.hasPrefix("s3://") {
            guard case .s3(let bucket, let key) = try ObjectLocation(parsing: uri), !key.isEmpty else {
                throw FetchError.unsupportedURI(uri)
            }
            let client: S3Client
            do { client = try s3.get() } catch { throw ServiceError.s3Unavailable(uri: uri, reason: "\(error)") }
            do {
                // One GET, bounded while it reads: no HEAD round trip, and no
                // window for the object to grow between a size check and the read.
                return try await client.getObject(bucket: bucket, key: key, maxBytes: maxBytes)
            } catch S3Error.objectTooLarge(_, let bytes, let limit) {
                throw FetchError.tooLarge(uri, bytes: bytes, limit: limit)
            } catch let error as S3Error where error.status == 404 {
                throw FetchError.missing(uri, "\(error)")
            } catch let error as S3Error where error.status == 401 || error.status == 403 {
                throw ServiceError.accessDenied(uri: uri, error)
            } catch let error as S3Error where error.isMissingCredentials {
                throw ServiceError.s3Unavailable(uri: uri, reason: "\(error)")
            }
        }
        guard uri.hasPrefix("file://"), let url = URL(string: uri), url.isFileURL else { throw FetchError.unsupportedURI(uri) }
        return try await BlockingIOPool.shared.run { [maxBytes] in try Self.readFile(url, uri: uri, maxBytes: maxBytes) }
    }

    private static func readFile(_ url: URL, uri: String, maxBytes: Int) throws -> [UInt8] {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = attributes?[.size] as? Int else { throw FetchError.missing(uri, "no such file") }
        guard size <= maxBytes else { throw FetchError.tooLarge(uri, bytes: size, limit: maxBytes) }
        guard let data = FileManager.default.contents(atPath: url.path) else { throw FetchError.missing(uri, "unreadable") }
        return [UInt8](data)
    }
}
