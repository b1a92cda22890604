import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Prometheus metrics of this process: bootstraps swift-metrics with a
/// Prometheus registry and serves it at `GET /metrics` (and `/healthz`).
public struct MetricsServer: Service {
    public let port: Int
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger

    /// The process's registry; the first use bootstraps swift-metrics with it,
    /// so touch it before any metric is created (the CLI does at start).
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    public init(port: Int, logger: Logger) {
        self.port = port
        self.registry = Self.registry
        self.logger = logger
    }

    public func run() async throws {
        let router = Router()
        let registry = self.registry
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        let application = Application(
            router: router, configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: "fruits-metrics"),
            logger: logger)
        // The process's service group owns SIGTERM: a server that also caught it
        // could stop before the group asks it to, which the group counts as a failure.
        try await application.runService(gracefulShutdownSignals: [])
    }
}
