import Common
import Foundation
import Synchronization

/// An S3 client over libcurl with our own SigV4 signing. Requests are async
/// (many in flight on one HTTP thread); transient failures (5xx, 429,
/// connection errors, timeouts) are retried after a jittered exponential
/// backoff that sleeps the task, not a thread.
public final class S3Client: Sendable {
    public struct Object: Sendable, Equatable {
        public let key: String
        public let size: Int
        public let etag: String?
    }

    public struct ListPage: Sendable {
        public let objects: [Object]
        public let nextContinuationToken: String?
    }

    public let configuration: S3Configuration
    /// Requests sent again after a transient failure, since start.
    public var retries: Int { retryCount.load(ordering: .relaxed) }
    private let retryCount = Atomic<Int>(0)
    private let http: CurlHTTPClient

    public init(configuration: S3Configuration, http: CurlHTTPClient = CurlHTTPClient()) {
        self.configuration = configuration
        self.http = http
    }

    // MARK: Objects

    /// The object; with `maxBytes`, one larger than that is not read and
    /// throws `S3Error.objectTooLarge`.
    public func getObject(bucket: String, key: String, range: ClosedRange<Int>? = nil, maxBytes: Int? = nil) async throws -> [UInt8] {
        try await getObjectAndTag(bucket: bucket, key: key, range: range, maxBytes: maxBytes).body
    }

    /// The object and its ETag (the version a conditional put names).
    public func getObjectAndTag(
        bucket: String, key: String, range: ClosedRange<Int>? = nil, maxBytes: Int? = nil
    ) async throws -> (body: [UInt8], etag: String?) {
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try await send("GET", bucket: bucket, key: key, headers: headers, maxResponseBytes: maxBytes)
        return (response.body, response.headers["etag"])
    }

    /// A put that happens only if the object is absent (`If-None-Match: *`)
    /// or still has `etag` (`If-Match`), in one request whatever its size.
    /// A condition that does not hold is HTTP 412 (or 409 when another
    /// conditional write to the key was in flight); the new ETag otherwise.
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String, ifMatch etag: String?) async throws -> String? {
        let condition = etag.map { ("If-Match", $0) } ?? ("If-None-Match", "*")
        return try await send("PUT", bucket: bucket, key: key, headers: [("Content-Type", contentType), condition], body: body).headers["etag"]
    }

    /// Uploads in one request, or in parts from `multipartThreshold` bytes on.
    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String = "application/octet-stream") async throws -> String? {
        if body.count >= configuration.multipartThreshold {
            return try await putMultipart(bucket: bucket, key: key, body: body, contentType: contentType)
        }
        return try await send("PUT", bucket: bucket, key: key, headers: [("Content-Type", contentType)], body: body).headers["etag"]
    }

    /// Size and ETag, or nil when there is no such object.
    public func headObject(bucket: String, key: String) async throws -> Object? {
        do {
            let response = try await send("HEAD", bucket: bucket, key: key)
            return Object(key: key, size: Int(response.headers["content-length"] ?? "") ?? 0, etag: response.headers["etag"])
        } catch let error as S3Error where error.status == 404 {
            return nil
        }
    }

    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await send("DELETE", bucket: bucket, key: key)
    }

    public func createBucket(_ bucket: String) async throws {
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array(("<CreateBucketConfiguration><LocationConstraint>\(configuration.region)"
                + "</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        do {
            _ = try await send("PUT", bucket: bucket, key: nil, body: body)
        } catch let error as S3Error where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    // MARK: Listing

    public func listObjects(bucket: String, prefix: String, continuationToken: String? = nil, maxKeys: Int = 1000) async throws -> ListPage {
        var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", "\(maxKeys)")]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send("GET", bucket: bucket, key: nil, query: query)
        let xml = String(decoding: response.body, as: UTF8.self)[...]
        let objects = XMLScan.elements("Contents", in: xml).compactMap { entry -> Object? in
            guard let key = XMLScan.text("Key", in: entry) else { return nil }
            return Object(key: key, size: Int(XMLScan.text("Size", in: entry) ?? "") ?? 0, etag: XMLScan.text("ETag", in: entry))
        }
        let truncated = XMLScan.text("IsTruncated", in: xml) == "true"
        let token = truncated ? XMLScan.text("NextContinuationToken", in: xml) : nil
        if truncated && token == nil { throw S3Error.invalidResponse("a truncated listing without NextContinuationToken") }
        return ListPage(objects: objects, nextContinuationToken: token)
    }

    /// Every object under `prefix`, following continuation tokens.
    public func listAllObjects(bucket: String, prefix: String) async throws -> [Object] {
        var objects: [Object] = []
        var token: String?
        repeat {
            let page = try await listObjects(bucket: bucket, prefix: prefix, continuationToken: token)
            objects += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return objects
    }

    // MARK: Multipart

    /// Starts a multipart upload and returns its id.
    public func createMultipartUpload(bucket: String, key: String, contentType: String) async throws -> String {
        let created = try await send("POST", bucket: bucket, key: key, query: [("uploads", "")], headers: [("Content-Type", contentType)])
        guard let uploadID = XMLScan.text("UploadId", in: String(decoding: created.body, as: UTF8.self)[...]) else {
            throw S3Error.invalidResponse("CreateMultipartUpload returned no UploadId")
        }
        return uploadID
    }

    private func putMultipart(bucket: String, key: String, body: [UInt8], contentType: String) async throws -> String? {
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key, contentType: contentType)
        do {
            var parts: [(number: Int, etag: String)] = []
            for (index, start) in stride(from: 0, to: body.count, by: configuration.partSize).enumerated() {
                let part = Array(body[start..<min(start + configuration.partSize, body.count)])
                let response = try await send("PUT", bucket: bucket, key: key,
                                        query: [("partNumber", "\(index + 1)"), ("uploadId", uploadID)], body: part)
                guard let etag = response.headers["etag"] else { throw S3Error.invalidResponse("UploadPart returned no ETag") }
                parts.append((index + 1, etag))
            }
            let manifest = "<CompleteMultipartUpload>"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(XMLScan.escape($0.etag))</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            // CompleteMultipartUpload can fail with 200 and an <Error> body
            // (AWS: retry it); such an answer is retried like a 5xx.
            var attempt = 0
            while true {
                attempt += 1
                let completed = try await send("POST", bucket: bucket, key: key, query: [("uploadId", uploadID)],
                                         headers: [("Content-Type", "application/xml")], body: Array(manifest.utf8))
                let text = String(decoding: completed.body, as: UTF8.self)[...]
                guard let code = XMLScan.text("Code", in: text), XMLScan.text("ETag", in: text) == nil else {
                    return XMLScan.text("ETag", in: text)
                }
                let error = S3Error.http(status: 200, code: code, message: XMLScan.text("Message", in: text) ?? "", resource: "\(bucket)/\(key)")
                guard error.isRetriable, attempt < configuration.retry.attempts else { throw error }
                retryCount.add(1, ordering: .relaxed)
                try await Task.sleep(for: backoff(attempt: attempt))
            }
        } catch {
            _ = try? await send("DELETE", bucket: bucket, key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    /// Aborts the multipart uploads under `prefix` started before `date`
    /// and never completed: a writer that crashed mid-upload, or a create
    /// whose answer was lost and was retried, leaves parts that are billed
    /// and invisible. Returns how many it aborted.
    @discardableResult
    public func abortIncompleteUploads(bucket: String, prefix: String, startedBefore date: Date) async throws -> Int {
        var aborted = 0
        var markers: [(String, String)] = []
        while true {
            let page = try await send("GET", bucket: bucket, key: nil, query: [("uploads", ""), ("prefix", prefix)] + markers)
            let xml = String(decoding: page.body, as: UTF8.self)[...]
            for upload in XMLScan.elements("Upload", in: xml) {
                guard let key = XMLScan.text("Key", in: upload), let id = XMLScan.text("UploadId", in: upload),
                      let initiated = XMLScan.text("Initiated", in: upload).flatMap(Self.parseTimestamp), initiated < date
                else { continue }
                _ = try await send("DELETE", bucket: bucket, key: key, query: [("uploadId", id)])
                aborted += 1
            }
            guard XMLScan.text("IsTruncated", in: xml) == "true", let key = XMLScan.text("NextKeyMarker", in: xml) else { return aborted }
            markers = [("key-marker", key), ("upload-id-marker", XMLScan.text("NextUploadIdMarker", in: xml) ?? "")]
        }
    }

    /// ISO 8601 as S3 writes it, with or without fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    // MARK: Requests

    private func send(
        _ method: String, bucket: String, key: String?, query: [(String, String)] = [],
        headers: [(String, String)] = [], body: [UInt8] = [], maxResponseBytes: Int? = nil
    ) async throws -> HTTPResponse {
        let (url, host, path) = address(bucket: bucket, key: key, query: query)
        var headers = headers
        // Without one, libcurl labels a body as a form, which servers may parse away.
        if !body.isEmpty && !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/octet-stream"))
        }
        var request = HTTPRequest(method: method, url: url, headers: headers, body: body, maxResponseBytes: maxResponseBytes)
        let resource = key.map { "\(bucket)/\($0)" } ?? bucket
        var attempt = 0
        while true {
            attempt += 1
            // Asked on every attempt: role credentials are replaced before they expire.
            let signer = SigV4Signer(credentials: try await configuration.credentials.credentials(), region: configuration.region)
            request.headers = headers.map { ($0.0, $0.1) }
                + signer.headers(method: method, host: host, encodedPath: path, query: query, body: body)
            do {
                let response = try await http.perform(request)
                if (200..<300).contains(response.status) { return response }
                let error = Self.error(from: response, resource: resource)
                guard error.isRetriable, attempt < configuration.retry.attempts else { throw error }
            } catch let error as HTTPResponseTooLarge where (200..<300).contains(error.status) {
                throw S3Error.objectTooLarge(resource: resource, bytes: error.declaredBytes, limit: error.limit)
            } catch let error as HTTPResponseTooLarge {
                // An error document past the limit: report the status without its body.
                let failure = S3Error.http(status: error.status, code: Self.defaultCode(status: error.status), message: "(body too large)", resource: resource)
                guard failure.isRetriable, attempt < configuration.retry.attempts else { throw failure }
            } catch let error as HTTPTransportError {
                guard attempt < configuration.retry.attempts else { throw S3Error.unreachable(error, attempts: attempt) }
            }
            retryCount.add(1, ordering: .relaxed)
            try await Task.sleep(for: backoff(attempt: attempt))
        }
    }

    /// Full jitter: uniform in [0, min(maximum, base * 2^attempt)].
    private func backoff(attempt: Int) -> Duration {
        let retry = configuration.retry
        return .seconds(Double.random(in: 0...min(retry.maximumDelay.seconds, retry.baseDelay.seconds * pow(2, Double(attempt)))))
    }

    static func error(from response: HTTPResponse, resource: String) -> S3Error {
        let text = String(decoding: response.body, as: UTF8.self)[...]
        let code = XMLScan.text("Code", in: text) ?? Self.defaultCode(status: response.status)
        let message = XMLScan.text("Message", in: text) ?? "(no message)"
        return .http(status: response.status, code: code, message: message, resource: resource)
    }

    private static func defaultCode(status: Int) -> String {
        switch status {
        case 403: "AccessDenied"
        case 404: "NotFound"
        case 503: "ServiceUnavailable"
        default: "HTTP\(status)"
        }
    }

    /// Path-style on custom endpoints, virtual-hosted on AWS.
    private func address(bucket: String, key: String?, query: [(String, String)]) -> (url: String, host: String, path: String) {
        let encodedKey = key.map { S3URIEncoding.encode($0, keepSlash: true) } ?? ""
        let base: String, host: String, path: String
        if let endpoint = configuration.endpoint {
            host = endpoint.hostHeader
            base = "\(endpoint.scheme)://\(host)"
            path = "/\(bucket)" + (key == nil ? "" : "/\(encodedKey)")
        } else {
            host = "\(bucket).s3.\(configuration.region).amazonaws.com"
            base = "https://\(host)"
            path = "/\(encodedKey)"
        }
        // Sub-resources such as "uploads" go bare in the URL (some servers drop
        // "uploads="); the signature covers "uploads=" either way.
        let queryString = SigV4Signer.canonicalQuery(query).split(separator: "&")
            .map { $0.hasSuffix("=") ? String($0.dropLast()) : String($0) }
            .joined(separator: "&")
        return (base + path + (queryString.isEmpty ? "" : "?\(queryString)"), host, path)
    }
}
