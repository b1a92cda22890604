import Common
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Upload endpoint under load and scrutiny")
struct UploadHardeningTests {
    @Test func burstOf200ConcurrentUploadsIsAcceptedOrShedWithRetryAfter() async throws {
        let harness = try UploadServerTests.Harness(maxConcurrent: 16)
        let application = Application(router: harness.server.makeRouter())
        let outcomes = Tally()
        try await application.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        try await client.execute(uri: "/v1/images", method: .post, headers: UploadServerTests.authorized,
                                                 body: ByteBuffer(bytes: UploadServerTests.jpeg)) { response in
                            if response.status == .serviceUnavailable { #expect(response.headers[.retryAfter] == "1") }
                            outcomes.counts.withLock { $0[Int(response.status.code), default: 0] += 1 }
                        }
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
        #expect(try harness.store.list(prefix: "uploads/").count == counts[202] ?? 0)
    }

    final class Tally: Sendable {
        let counts = Mutex<[Int: Int]>([:])
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
            try await client.execute(uri: "/v1/images?label=x", method: .post, headers: UploadServerTests.authorized,
                                     body: ByteBuffer(bytes: UploadServerTests.jpeg)) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/v1/images", method: .post,
                                     headers: [.authorization: "Bearer \(UploadServerTests.token)-guess"],
                                     body: ByteBuffer(bytes: UploadServerTests.jpeg)) { #expect($0.status == .unauthorized) }
        }
        let lines = Capture.lines.withLock { $0 }
        #expect(lines.contains { $0.contains("upload accepted") }, "the capture saw the server's logs")
        #expect(!lines.contains { $0.contains(UploadServerTests.token) })
    }
}
