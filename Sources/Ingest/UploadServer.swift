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

/// The app's upload endpoint, whose contract is `schemas/openapi.yaml`
/// (served at `GET /openapi.json`): `POST /v1/images[?label=...][&wait=S]`
/// with the JPEG as the body and `Authorization: Bearer <token>`. The photo
/// is stored under `uploads/YYYY/MM/DD/<uuid>.jpg` (no client-chosen part in
/// the key), an `ImageEvent` is emitted on the live topic, and the answer is
/// `200` with the image's result if it is ready within S seconds (at most
/// 10), else `202 {"image_id", "status": "pending"}`. `GET /v1/images/{id}`
/// answers from `RecentResults` (fed by `ResultsFeed`), 404 for an id it
/// does not hold. `GET /healthz` answers 200 while the photo store takes
/// writes, 503 otherwise. `GET /` is the `UploadStatusPage`.
///
/// Hostile clients are bounded: parameters are parsed strictly
/// (`UploadParameters`), `RequestReadDeadlines` closes connections that send
/// too slowly or answer before their body, at most `maxConnections` are
/// open, and bodies are charged to a `BodyBudget` as they arrive.
public final class UploadServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        public var port = 8080
        public var token: String
        public var maxBodyBytes = 20 << 20
        /// Bytes of request bodies held at once, charged as they arrive (one
        /// copy each); an upload that does not fit gets 503 with Retry-After.
        /// 128 MiB leaves room for the recent answers (50 MiB) and the
        /// runtime in the 512 MiB the deployment gives an endpoint.
        public var maxBufferedBytes = 128 << 20
        /// Open connections at most; more wait in the listen backlog.
        public var maxConnections = 2_000
        /// How long a client may take to send a request head (also the idle
        /// limit between requests); its body gets `bodyTimeout`, then must
        /// keep `minimumBodyRate` bytes a second on average, and must end
        /// within `maxBodyDuration` (a 5 MB phone photo at 42 KB/s).
        public var headTimeout: Duration = .seconds(20)
        public var bodyTimeout: Duration = .seconds(20)
        public var minimumBodyRate = 10 << 10
        public var maxBodyDuration: Duration = .seconds(120)
        public var topic = PipelineTopics().liveImages
        /// The longest `?wait=` a client may ask for.
        public var maxWait: Duration = .seconds(10)

        public init(token: String) { self.token = token }
    }

    private let configuration: Configuration
    private let store: any ObjectStore
    private let producer: KafkaProducer
    private let logger: Logger
    private let budget: BodyBudget
    private let health: StoreHealth
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
        budget = BodyBudget(limit: configuration.maxBufferedBytes)
        health = StoreHealth(store: store, logger: logger)
    }

    /// Bytes of request bodies held right now.
    public var bufferedBytesForTests: Int { budget.inUse }

    /// Writes the probe object once: a store this endpoint cannot write to
    /// (no credentials, no such bucket, no permission) fails here, at start.
    public func checkStore() async throws {
        do { try await health.probe() } catch {
            throw StoreHealth.Unusable(description: "cannot write to the photo store \(store.location): \(error)")
        }
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
            minimumRate: configuration.minimumBodyRate, maxBodyDuration: .nanoseconds(configuration.maxBodyDuration.nanoseconds))
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
        router.get("/healthz") { [health] _, _ in
            let problem = await health.check()
            return Response(status: problem == nil ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: problem.map { "not ready: \($0)\n" } ?? "ok\n")))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/") { [self] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: await statusPage.html())))
        }
        router.post("/v1/images") { [self] request, context in try await upload(request, context: context) }
        router.get("/v1/images/{id}") { [self] request, context in try answer(request, context: context) }
        return router
    }

    private func upload(_ request: Request, context: BasicRequestContext) async throws -> Response {
        // Refused before a byte of the body is read; the connection closes
        // after the answer (`RequestReadDeadlines`) instead of draining it.
        guard authorized(request.headers[.authorization]) else {
            rejected("unauthorized")
            throw APIError.unauthorized
        }
        let parameters: UploadParameters
        do { parameters = try UploadParameters(query: request.uri.queryParameters, maxWait: configuration.maxWait) } catch {
            rejected("bad_parameter")
            throw error
        }
        var timing = ServerTiming()
        let event = try await store(try await photo(of: request), label: parameters.label)
        timing.lap("store")
        try await producer.send(topic: configuration.topic, key: Array(event.imageID.utf8), value: try event.serializedBytes())
        timing.lap("queue")
        accepted.increment()
        statusPage.uploadAccepted()
        logger.info("upload accepted", metadata: ["image_id": "\(event.imageID)", "bytes": "\(event.sizeBytes)"])
        // The photo is not held while the client waits: it is stored, and its bytes are gone with `photo`'s frame.
        if parameters.wait > .zero, let answers {
            let result = await answers.result(of: event.imageID, waitingUpTo: parameters.wait)
            timing.lap("answer")
            if let result {
                timing.split(result, ingestedAtMicros: event.ingestedAtMicros)
                return Self.json(.ok, ImageAnswerBody(result), headers: timing.headers)
            }
        }
        return Self.json(.accepted, ImageAnswerBody.pending(event.imageID, label: parameters.label), headers: timing.headers)
    }

    /// The request's body, in one array charged to the budget as it
    /// arrives; a JPEG or a refusal.
    private func photo(of request: Request) async throws -> BodyBudget.Held {
        let declared = request.headers[.contentLength]
        if let declared, Int(declared).map({ $0 < 0 || $0 > configuration.maxBodyBytes }) ?? true {
            rejected(Int(declared) == nil ? "bad_parameter" : "too_large")
            throw Int(declared) == nil ? APIError.badParameter("Content-Length", "Content-Length must be a byte count")
                : APIError.tooLarge(limit: configuration.maxBodyBytes)
        }
        let photo: BodyBudget.Held
        do {
            photo = try await budget.read(request.body, declaredLength: declared.flatMap(Int.init), limit: configuration.maxBodyBytes)
        } catch let error as APIError {
            rejected(error.status == .contentTooLarge ? "too_large" : "busy")
            throw error
        }
        guard photo.bytes.count >= 3, photo.bytes[0] == 0xFF, photo.bytes[1] == 0xD8, photo.bytes[2] == 0xFF else {
            rejected("not_jpeg")
            throw APIError(status: .unsupportedMediaType, message: "only JPEG photos are accepted")
        }
        return photo
    }

    /// Stores the photo under a key of the server's making and returns its
    /// image event; the photo's bytes and budget go with the caller's `photo`.
    private func store(_ photo: BodyBudget.Held, label: String) async throws -> Fruits_V1_ImageEvent {
        defer { photo.release() }
        let key = "uploads/\(Self.datePath())/\(UUID().uuidString.lowercased()).jpg"
        do {
            try await store.put(key, photo.bytes, contentType: "image/jpeg")
            health.succeeded()
        } catch {
            health.failed(error)
            logger.error("an upload could not be stored", metadata: ["error": "\(error)"])
            throw APIError(status: .serviceUnavailable, message: "the photo store is unavailable, retry shortly", headers: [.retryAfter: "5"])
        }
        var event = Fruits_V1_ImageEvent()
        event.uri = store.location.uri(of: key)
        event.imageID = EventIdentity.imageID(uri: event.uri)
        event.label = label
        event.source = .upload
        event.ingestedAtMicros = EventIdentity.nowMicros()
        event.sizeBytes = Int64(photo.bytes.count)
        answers?.accepted(event.imageID, label: label)
        return event
    }

    private func answer(_ request: Request, context: BasicRequestContext) throws -> Response {
        guard authorized(request.headers[.authorization]) else { throw APIError.unauthorized }
        let id = context.parameters.get("id") ?? ""
        guard ImageKey(imageID: id) != nil else {
            throw APIError.badParameter("id", "an image id is 32 lowercase hexadecimal digits, as the upload answered")
        }
        switch answers?[id] {
        case .result(let result): return Self.json(.ok, ImageAnswerBody(result))
        case .pending(let label): return Self.json(.ok, ImageAnswerBody.pending(id, label: label))
        case nil: throw APIError(status: .notFound, message: "no image \(id) here: never uploaded, or too old for this endpoint's recent answers")
        }
    }

    /// Constant-time comparison, so the token cannot be guessed byte by byte.
    private func authorized(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8), expected = Array(configuration.token.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
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
