import Common
import Foundation

/// Reads the object an event's URI names: `s3://bucket/key` or `file:///path`,
/// and says who is to blame when it cannot: the object (`FetchError`), the
/// service (`ServiceError`), either (`AccessDenied`, settled by `verdict(on:)`),
/// or nobody yet (any other error: S3 unreachable, 5xx after retries).
public struct ObjectFetcher: Sendable {
    /// The object is to blame: retrying will not fix it, so its image gets a dead letter.
    public enum FetchError: Error, CustomStringConvertible {
        case unsupportedURI(String)
        case missing(String, String)
        case tooLarge(String, bytes: Int?, limit: Int)
        /// A device, FIFO, directory or socket: nothing a photo is kept in.
        case notRegularFile(String, kind: String)
        /// S3 refused this object for a reason of its own: archived, encrypted
        /// with a customer's key, in another region, asked for badly.
        case refused(String, S3Error)
        /// S3 denied access to this object while access as such works; the evidence.
        case denied(String, S3Error, evidence: String)

        public var description: String {
            switch self {
            case .unsupportedURI(let uri): "cannot fetch \(uri): only s3:// and file:// URIs are supported"
            case .missing(let uri, let why): "cannot read \(uri): \(why)"
            case .tooLarge(let uri, let bytes, let limit): "\(uri) has " + (bytes.map { "\($0) bytes" } ?? "more bytes") + ", above the limit of \(limit)"
            case .notRegularFile(let uri, let kind): "cannot read \(uri): it is a \(kind), not a regular file"
            case .refused(let uri, let error): "cannot read \(uri): \(error)"
            case .denied(let uri, let error, let evidence): "cannot read \(uri): \(error) (this object only: \(evidence))"
            }
        }

        /// Whether trying again could not possibly help.
        public var isFinal: Bool {
            if case .unsupportedURI = self { return true }
            return false
        }
    }

    /// The service is to blame (its credentials, its permissions): the image
    /// is fine and must not be dead-lettered; the operator has to act.
    public enum ServiceError: Error, CustomStringConvertible {
        /// No S3 client could be made (no credentials, a bad endpoint).
        case s3Unavailable(uri: String, reason: String)
        /// Credentials refused (401, a bad key or signature, an expired token, a skewed clock).
        case accessDenied(uri: String, S3Error)
        /// Access denied to every object, not only this one; the evidence.
        case accessLost(uri: String, S3Error, evidence: String)

        /// Access may come back (rotated keys, a role still propagating);
        /// missing credentials will not.
        public var isRetriable: Bool {
            if case .s3Unavailable = self { return false }
            return true
        }

        public var description: String {
            switch self {
            case .s3Unavailable(let uri, let reason): "cannot fetch \(uri): \(reason)"
            case .accessDenied(let uri, let error): "S3 denied access to \(uri): \(error)"
            case .accessLost(let uri, let error, let evidence): "S3 denied access to \(uri) and to the others: \(evidence): \(error)"
            }
        }
    }

    /// S3 denied access to an object: its own fault or the service's, which
    /// `verdict(on:)` settles once retrying the object did not help.
    public struct AccessDenied: Error, CustomStringConvertible {
        public let uri: String
        public let bucket: String
        public let error: S3Error
        public var description: String { "S3 denied access to \(uri): \(error)" }
    }

    public enum DenialVerdict: Sendable {
        case object(FetchError)
        case service(ServiceError)
    }

    private let s3: Result<S3Client, any Error>
    public let maxBytes: Int
    public let access: S3AccessWatch

    /// `s3` is the client for s3:// URIs, or why there is none.
    /// The largest object read: a phone photo is a few MB, a 50 MP one up to ~30 MB.
    public static let defaultMaxBytes = 50 << 20

    public init(s3: Result<S3Client, any Error>, maxBytes: Int = defaultMaxBytes, deniedObjectsForLoss: Int = 8) {
        self.s3 = s3
        self.maxBytes = maxBytes
        access = S3AccessWatch(client: try? s3.get(), lossThreshold: deniedObjectsForLoss)
    }

    /// A fetcher of file:// URIs only.
    public static func localFiles(maxBytes: Int = defaultMaxBytes) -> ObjectFetcher {
        ObjectFetcher(s3: .failure(NoS3Client()), maxBytes: maxBytes)
    }

    private struct NoS3Client: Error, CustomStringConvertible {
        var description: String { "this fetcher reads file:// URIs only" }
    }

    public func fetch(_ uri: String) async throws -> [UInt8] {
        if uri.hasPrefix("s3://") {
            guard case .s3(let bucket, let key) = try ObjectLocation(parsing: uri), !key.isEmpty else {
                throw FetchError.unsupportedURI(uri)
            }
            return try await fetch(uri, bucket: bucket, key: key)
        }
        guard uri.hasPrefix("file://"), let url = URL(string: uri), url.isFileURL else { throw FetchError.unsupportedURI(uri) }
        return try await BlockingIOPool.shared.run { [maxBytes] in try BoundedFileRead.contents(path: url.path, uri: uri, maxBytes: maxBytes) }
    }

    private func fetch(_ uri: String, bucket: String, key: String) async throws -> [UInt8] {
        let client: S3Client
        do { client = try s3.get() } catch { throw ServiceError.s3Unavailable(uri: uri, reason: "\(error)") }
        do {
            // One GET, bounded while it reads: no HEAD round trip, and no
            // window for the object to grow between a size check and the read.
            let bytes = try await client.getObject(bucket: bucket, key: key, maxBytes: maxBytes)
            if !bytes.isEmpty { await access.granted(bucket: bucket, key: key) }  // an empty object could not be probed
            return bytes
        } catch S3Error.objectTooLarge(_, let bytes, let limit) {
            throw FetchError.tooLarge(uri, bytes: bytes, limit: limit)
        } catch let error as S3Error {
            switch error.blame {
            case .service where error.isMissingCredentials: throw ServiceError.s3Unavailable(uri: uri, reason: "\(error)")
            case .service: throw ServiceError.accessDenied(uri: uri, error)
            case .denial:
                await access.denied(bucket: bucket, key: key)
                throw AccessDenied(uri: uri, bucket: bucket, error: error)
            case .object where error.status == 404: throw FetchError.missing(uri, "\(error)")
            case .object: throw FetchError.refused(uri, error)
            case .transient: throw error
            }
        }
    }

    /// Whether a denial that retrying did not fix is the object's or the service's.
    public func verdict(on denial: AccessDenied) async -> DenialVerdict {
        switch await access.verdict(bucket: denial.bucket) {
        case .object(let evidence): .object(.denied(denial.uri, denial.error, evidence: evidence))
        case .service(let evidence): .service(.accessLost(uri: denial.uri, denial.error, evidence: evidence))
        }
    }
}
