import Common
import Foundation
import Hummingbird
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The app's upload endpoint: `POST /v1/images[?label=...]` with the JPEG as
/// the body and `Authorization: Bearer <token>`. The photo is stored under
/// `uploads/YYYY/MM/DD/<uuid>.jpg` (no client-chosen part in the key), an
/// `ImageEvent` is emitted, and the answer is `202 {"image_id": ...}`.
/// `GET /healthz` answers 200.
public final class UploadServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        public var port = 8080
        public var token: String
        public var maxBodyBytes = 20 << 20
        /// Uploads handled at once; more get 503 with Retry-After.
        public var maxConcurrentUploads = 64
        public var topic = PipelineTopics().images

        public init(token: String) { self.token = token }
    }

    private let configuration: Configuration
    private let store: any ObjectStore
    private let producer: KafkaProducer
    private let logger: Logger
    private let inFlight = Mutex<Int>(0)
    private let accepted = Counter(label: "fruits_uploads_accepted_total")

    private func rejected(_ reason: String) {
        Counter(label: "fruits_uploads_rejected_total", dimensions: [("reason", reason)]).increment()
    }

    public init(configuration: Configuration, store: any ObjectStore, producer: KafkaProducer, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.producer = producer
        self.logger = logger
    }

    public func run() async throws {
        let application = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fruits-ingest"),
            logger: logger)
        try await application.runService()
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.post("/v1/images") { [self] request, context in try await upload(request, context: context) }
        return router
    }

    private func upload(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard authorized(request.headers[.authorization]) else {
            rejected("unauthorized")
            return Self.json(.unauthorized, ["error": "missing or wrong bearer token"], headers: [.wwwAuthenticate: "Bearer"])
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            rejected("too_large")
            return Self.json(.contentTooLarge, ["error": "the photo is larger than \(configuration.maxBodyBytes) bytes"])
        }
        let admitted = inFlight.withLock { count in
            guard count < configuration.maxConcurrentUploads else { return false }
            count += 1
            return true
        }
        guard admitted else {
            rejected("busy")
            return Self.json(.serviceUnavailable, ["error": "too many uploads at once, retry shortly"], headers: [.retryAfter: "1"])
        }
        defer { inFlight.withLock { $0 -= 1 } }

        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            rejected("too_large")
            return Self.json(.contentTooLarge, ["error": "the photo is larger than \(configuration.maxBodyBytes) bytes"])
        }
        let bytes = Array(body.readableBytesView)
        guard bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF else {
            rejected("not_jpeg")
            return Self.json(.unsupportedMediaType, ["error": "only JPEG photos are accepted"])
        }
        let label = Self.sanitizedLabel(request.uri.queryParameters.get("label") ?? "")

        let key = "uploads/\(Self.datePath())/\(UUID().uuidString.lowercased()).jpg"
        try store.put(key, bytes, contentType: "image/jpeg")
        var event = Fruits_V1_ImageEvent()
        event.uri = store.location.uri(of: key)
        event.imageID = EventIdentity.imageID(uri: event.uri)
        event.label = label
        event.source = .upload
        event.ingestedAtMicros = EventIdentity.nowMicros()
        event.sizeBytes = Int64(bytes.count)
        try await producer.send(topic: configuration.topic, key: Array(event.imageID.utf8), value: try event.serializedBytes())
        accepted.increment()
        logger.info("upload accepted", metadata: ["image_id": "\(event.imageID)", "bytes": "\(bytes.count)"])
        return Self.json(.accepted, ["image_id": event.imageID])
    }

    /// Constant-time comparison, so the token cannot be guessed byte by byte.
    private func authorized(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8), expected = Array(configuration.token.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Labels are data, not paths: printable characters only, no slashes, at most 100.
    static func sanitizedLabel(_ label: String) -> String {
        String(label.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) && $0 != "/" && $0 != "\\" }
            .prefix(100).map(Character.init)).trimmingCharacters(in: .whitespaces)
    }

    static func datePath() -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        return String(format: "%04d/%02d/%02d", parts.year!, parts.month!, parts.day!)
    }

    static func json(_ status: HTTPResponse.Status, _ fields: [String: String], headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
