import Common
import Events
import Foundation
import Hummingbird
import HummingbirdCore
import Kafka
import Logging
import Metrics
import ObjectStorage
import ServiceLifecycle
import Synchronization

/// The app's upload endpoint: `POST /v1/images[?label=...][&wait=S]` with the
/// JPEG as the body and `Authorization: Bearer <token>`. The photo is stored
/// under `uploads/YYYY/MM/DD/<uuid>.jpg` (no client-chosen part in the key),
/// an `ImageEvent` is emitted on the live topic, and the answer is `200` with
/// the image's result if it is ready within S seconds (at most 10), else
/// `202 {"image_id", "status": "pending"}`. `GET /v1/images/{id}` answers
/// from `RecentResults` (fed by `ResultsFeed`), 404 for an id it does not hold.
/// `GET /healthz` answers 200. `GET /` is the `UploadStatusPage`.
///
/// Slow and idle clients are bounded: `RequestReadDeadlines` closes
/// connections that send too slowly, at most `maxConnections` are open, and
/// request bodies are admitted against a memory budget.
public final class UploadServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        public var port = 8080
        public var token: String
        public var maxBodyBytes = 20 << 20
        /// Bytes of request bodies held at once, reserved by each upload's
        /// declared length (`maxBodyBytes` when it declares none); an upload
        /// that does not fit gets 503 with Retry-After.
        public var maxBufferedBytes = 256 << 20
        /// Open connections at most; more wait in the listen backlog.
        public var maxConnections = 2_000
        /// How long a client may take to send a request head (also the idle
        /// limit between requests), and its body: `bodyTimeout`, plus a second
        /// for every `minimumBodyRate` bytes received.
        public var headTimeout: Duration = .seconds(20)
        public var bodyTimeout: Duration = .seconds(20)
        public var minimumBodyRate = 500
        public var topic = PipelineTopics().liveImages
        /// The longest `?wait=` a client may ask for.
        public var maxWait: Duration = .seconds(10)

        public init(token: String) { self.token = token }
    }

    private let configuration: Configuration
    private let store: any ObjectStore
    private let producer: KafkaProducer
    private let logger: Logger
    private let buffered = Mutex<Int>(0)
    private let accepted = Counter(label: "fruits_uploads_accepted_total")

    private func rejected(_ reason: String) {
        Counter(label: "fruits_uploads_rejected_total", dimensions: [("reason", reason)]).increment()
    }

    private let answers: RecentResults?
    private let statusPage: UploadStatusPage

    public init(
        configuration: Configuration, store: any ObjectStore, producer: KafkaProducer, answers: RecentResults? = nil,
        statusPage: UploadStatusPage = UploadStatusPage(), logger: Logger
    ) {
        self.configuration = configuration
        self.answers = answers
        self.store = store
        self.statusPage = statusPage
        self.producer = producer
        self.logger = logger
    }

    /// Serves until the service group that runs it shuts down (it does not
    /// handle signals itself, so it stops in its turn, after the services
    /// started after it).
    public func run() async throws {
        try await makeApplication().runService(gracefulShutdownSignals: [])
    }

    /// The HTTP server with its connection limits; `port` 0 picks a free one.
    public func makeApplication(port: Int? = nil) -> some ApplicationProtocol {
        let limits = RequestReadDeadlines.Limits(
            headTimeout: .nanoseconds(configuration.headTimeout.nanoseconds), bodyTimeout: .nanoseconds(configuration.bodyTimeout.nanoseconds),
            minimumRate: configuration.minimumBodyRate)
        let timedOut = Counter(label: "fruits_upload_connections_timed_out_total")
        return Application(
            router: makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestReadDeadlines(limits: limits) { timedOut.increment() }])),
            configuration: .init(
                address: .hostname(configuration.host, port: port ?? configuration.port), serverName: "fruits-ingest",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            logger: logger)
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/") { [self] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try await statusPage.html())))
        }
        router.post("/v1/images") { [self] request, context in try await upload(request, context: context) }
        router.get("/v1/images/{id}") { [self] request, context in answer(request, context: context) }
        return router
    }

    private func upload(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard authorized(request.headers[.authorization]) else {
            rejected("unauthorized")
            return Self.unauthorized
        }
        var wait = Duration.zero
        if let given = request.uri.queryParameters.get("wait") {
            guard let seconds = Double(given), seconds >= 0, seconds.isFinite else {
                return Self.json(.badRequest, ["error": "wait must be a number of seconds, at most \(configuration.maxWait.components.seconds)"])
            }
            wait = min(.milliseconds(Int64(seconds * 1_000)), configuration.maxWait)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            rejected("too_large")
            return Self.json(.contentTooLarge, ["error": "the photo is larger than \(configuration.maxBodyBytes) bytes"])
        }
        let reserved = request.headers[.contentLength].flatMap(Int.init) ?? configuration.maxBodyBytes
        let admitted = buffered.withLock { total in
            guard total + reserved <= configuration.maxBufferedBytes else { return false }
            total += reserved
            return true
        }
        guard admitted else {
            rejected("busy")
            return Self.json(.serviceUnavailable, ["error": "too many uploads at once, retry shortly"], headers: [.retryAfter: "1"])
        }
        defer { buffered.withLock { $0 -= reserved } }

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
        var timing = ServerTiming()
        try await store.put(key, bytes, contentType: "image/jpeg")
        timing.lap("store")
        var event = Fruits_V1_ImageEvent()
        event.uri = store.location.uri(of: key)
        event.imageID = EventIdentity.imageID(uri: event.uri)
        event.label = label
        event.source = .upload
        event.ingestedAtMicros = EventIdentity.nowMicros()
        event.sizeBytes = Int64(bytes.count)
        answers?.accepted(event.imageID, label: label)
        try await producer.send(topic: configuration.topic, key: Array(event.imageID.utf8), value: try event.serializedBytes())
        timing.lap("queue")
        accepted.increment()
        statusPage.uploadAccepted()
        logger.info("upload accepted", metadata: ["image_id": "\(event.imageID)", "bytes": "\(bytes.count)"])
        if wait > .zero, let answers {
            let result = await answers.result(of: event.imageID, waitingUpTo: wait)
            timing.lap("answer")
            if let result { timing.split(result, ingestedAtMicros: event.ingestedAtMicros) }
            if let result { return Self.json(.ok, ImageAnswerBody(result), headers: timing.headers) }
        }
        return Self.json(.accepted, ImageAnswerBody.pending(event.imageID, label: label), headers: timing.headers)
    }

    private func answer(_ request: Request, context: BasicRequestContext) -> Response {
        guard authorized(request.headers[.authorization]) else { return Self.unauthorized }
        let id = context.parameters.get("id") ?? ""
        switch answers?[id] {
        case .result(let result): return Self.json(.ok, ImageAnswerBody(result))
        case .pending(let label): return Self.json(.ok, ImageAnswerBody.pending(id, label: label))
        case nil: return Self.json(.notFound, ["error": "no image \(id.prefix(64)) here: never uploaded, or too old for this endpoint's recent answers"])
        }
    }

    private static let unauthorized = json(.unauthorized, ["error": "missing or wrong bearer token"], headers: [.wwwAuthenticate: "Bearer"])

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

    static func json(_ status: HTTPResponse.Status, _ body: some Encodable, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
