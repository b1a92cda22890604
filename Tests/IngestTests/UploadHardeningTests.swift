import Common
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import Kafka
import Logging
import ObjectStorage
import Synchronization
import TestSupport
import Testing

@Suite("Upload endpoint under load and scrutiny", .tags(.integration))
struct UploadHardeningTests {
    @Test func burstOf200ConcurrentUploadsIsAcceptedOrShedWithRetryAfter() async throws {
        let harness = try UploadServerTests.Harness(maxBufferedBytes: 16 * UploadServerTests.jpeg.count)
        let application = Application(router: harness.server.makeRouter())
        let outcomes = Tally<Int>()
        try await application.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let response = try await client.upload()
                        if response.status == .serviceUnavailable { #expect(response.headers[.retryAfter] == "1") }
                        outcomes.counts.withLock { $0[Int(response.status.code), default: 0] += 1 }
                    }
                }
                try await group.waitForAll()
            }
            try await client.execute(uri: "/healthz", method: .get) { response in #expect(response.status == .ok) }
        }
        let counts = outcomes.counts.withLock { $0 }
        #expect(Set(counts.keys).isSubset(of: [202, 503]), "\(counts)")
        #expect(counts.values.reduce(0, +) == 200)
        #expect((counts[202] ?? 0) > 0)
        await #expect(try harness.store.list(prefix: "uploads/").count == counts[202] ?? 0)
    }

    /// 80 authenticated uploads trickling their bodies at a byte a second and
    /// 300 connections that send nothing, against the server's default
    /// limits: an honest upload still gets 202 within 3 s, /healthz answers,
    /// and the server drops every slow and idle connection within 60 s.
    @Test(.timeLimit(.minutes(3)))
    func slowAndIdleClientsCannotStarveTheEndpoint() async throws {
        let harness = try UploadServerTests.Harness(maxBodyBytes: 20 << 20, maxBufferedBytes: UploadServer.Configuration(token: "").maxBufferedBytes)
        try await harness.server.makeApplication(port: 0).test(.live) { client in
            let port = try #require(client.port)
            let run = try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/slow_clients.py").path,
                                                         "--port", "\(port)", "--token", UploadServerTests.token], timeout: .seconds(150))
            try #require(run.status == 0, "\(run.output)")
            let line = run.output.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
            let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double], "\(run.output)")
            print("slow clients: \(result)")
            #expect(result["honest_status"] == 202 && result["honest_seconds"] ?? 99 < 3, "\(result)")
            #expect(result["healthz_status"] == 200)
            #expect(result["trickle_closed"] == 80 && result["trickle_closed_by"] ?? 99 <= 60, "\(result)")
            #expect(result["idle_closed"] == 300 && result["idle_closed_by"] ?? 99 <= 60, "\(result)")
        }
    }

    /// Collects every log line and its metadata.
    final class Capture: LogHandler, @unchecked Sendable {
        static let lines = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            let all = self.metadata.merging(metadata ?? [:]) { $1 }
            Self.lines.withLock { $0.append("\(message) \(all)") }
        }
    }

    @Test func theTokenNeverReachesTheLogs() async throws {
        let cluster = try EmbeddedKafkaCluster()
        let store = try LocalObjectStore(root: Tools.temporaryPath("secret-\(UUID().uuidString.prefix(8))"))
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        let logger = Logger(label: "capture") { _ in Capture() }
        let server = UploadServer(configuration: .init(token: UploadServerTests.token), store: store, producer: producer, logger: logger)
        let application = Application(router: server.makeRouter(), logger: logger)
        try await application.test(.router) { client in
            let accepted = try await client.upload("?label=x")
            let guessed = try await client.upload(headers: [.authorization: "Bearer \(UploadServerTests.token)-guess"])
            #expect(accepted.status == .accepted && guessed.status == .unauthorized)
        }
        let lines = Capture.lines.withLock { $0 }
        #expect(lines.contains { $0.contains("upload accepted") }, "the capture saw the server's logs")
        #expect(!lines.contains { $0.contains(UploadServerTests.token) })
    }
}
