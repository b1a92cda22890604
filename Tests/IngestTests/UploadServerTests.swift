import Common
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import TestSupport
import Testing

@Suite("Upload endpoint")
struct UploadServerTests {
    static let token = "s3cr3t-upload-token"
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0x42, count: 2000) + [0xFF, 0xD9]

    /// A server over a temporary directory and an embedded broker, plus a consumer of its events.
    struct Harness {
        let cluster: EmbeddedKafkaCluster
        let store: LocalObjectStore
        let server: UploadServer

        init(maxBodyBytes: Int = 1 << 20, maxBufferedBytes: Int = 64 << 20, results: (any ObjectStore)? = nil,
             statusRows: UploadServer.StatusRows? = nil) throws {
            cluster = try EmbeddedKafkaCluster()
            try cluster.createTopic(PipelineTopics().images, partitions: 2)
            store = try LocalObjectStore(root: Tools.temporaryPath("uploads-\(UUID().uuidString.prefix(8))"))
            var configuration = UploadServer.Configuration(token: UploadServerTests.token)
            configuration.maxBodyBytes = maxBodyBytes
            configuration.maxBufferedBytes = maxBufferedBytes
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
            server = UploadServer(configuration: configuration, store: store, producer: producer, results: results, statusRows: statusRows,
                                  logger: Logger(label: "test"))
        }

        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            let application = Application(router: server.makeRouter())
            try await application.test(.router, body)
        }

        func events() throws -> [Fruits_V1_ImageEvent] {
            let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers),
                                             groupID: "check-\(UUID())", subscription: .group(topics: [PipelineTopics().images]))
            defer { try? consumer.close() }
            var events: [Fruits_V1_ImageEvent] = []
            while let message = try consumer.poll(timeout: .seconds(5)) {
                events.append(try Fruits_V1_ImageEvent(serializedBytes: message.value))
            }
            return events
        }
    }

    /// The status page needs no token and shows counts, never an id or a path.
    @Test func theStatusPageCountsRecentUploadsWithoutAToken() async throws {
        let results = try LocalObjectStore(root: Tools.temporaryPath("status-\(UUID().uuidString.prefix(8))"))
        let harness = try Harness(results: results, statusRows: { [("images waiting for an extractor (consumer lag)", "7")] })
        try await harness.test { client in
            var imageID = ""
            try await client.execute(uri: "/v1/images?label=Kiwi", method: .post, headers: Self.authorized,
                                     body: ByteBuffer(bytes: Self.jpeg)) { response in
                imageID = (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: String])?["image_id"] ?? ""
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                let page = String(buffer: response.body)
                #expect(page.contains("<th>uploads accepted, last 5 minutes</th><td>1</td>"))
                #expect(page.contains("No PCA model yet"))
                #expect(page.contains("<th>images waiting for an extractor (consumer lag)</th><td>7</td>"))
                #expect(!imageID.isEmpty && !page.contains(imageID) && !page.contains("uploads/"))
            }
        }
    }

    static var authorized: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "image/jpeg"] }

    @Test func acceptedUploadIsStoredAndAnnounced() async throws {
        let harness = try Harness()
        try await harness.test { client in
            try await client.execute(uri: "/v1/images?label=Apple%20Braeburn", method: .post, headers: Self.authorized,
                                     body: ByteBuffer(bytes: Self.jpeg)) { response in
                #expect(response.status == .accepted)
                let answer = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: String]
                #expect(answer?["image_id"]?.count == 32)
            }
        }
        let stored = try harness.store.list(prefix: "uploads/")
        #expect(stored.count == 1)
        #expect(try harness.store.get(stored[0].key) == Self.jpeg)
        let events = try harness.events()
        #expect(events.count == 1)
        #expect(events.first?.label == "Apple Braeburn")
        #expect(events.first?.source == .upload)
        #expect(events.first?.uri.hasSuffix(stored[0].key) == true)
    }

    @Test func missingOrWrongTokenIs401() async throws {
        let harness = try Harness()
        try await harness.test { client in
            try await client.execute(uri: "/v1/images", method: .post, body: ByteBuffer(bytes: Self.jpeg)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/images", method: .post, headers: [.authorization: "Bearer wrong-token-of-same-l"],
                                     body: ByteBuffer(bytes: Self.jpeg)) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(try harness.store.list(prefix: "").isEmpty)
    }

    @Test func bodyAboveTheLimitIs413() async throws {
        let harness = try Harness(maxBodyBytes: 1000)
        try await harness.test { client in
            try await client.execute(uri: "/v1/images", method: .post, headers: Self.authorized,
                                     body: ByteBuffer(bytes: Self.jpeg)) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
        #expect(try harness.store.list(prefix: "").isEmpty)
    }

    @Test func nonJPEGIs415() async throws {
        let harness = try Harness()
        try await harness.test { client in
            try await client.execute(uri: "/v1/images", method: .post, headers: Self.authorized,
                                     body: ByteBuffer(string: "<html>not a photo</html>")) { response in
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    @Test func labelsCannotEscapeTheUploadsPrefix() async throws {
        let harness = try Harness()
        try await harness.test { client in
            try await client.execute(uri: "/v1/images?label=..%2F..%2Fetc%2Fpasswd", method: .post, headers: Self.authorized,
                                     body: ByteBuffer(bytes: Self.jpeg)) { response in
                #expect(response.status == .accepted)
            }
        }
        let stored = try harness.store.list(prefix: "")
        #expect(stored.count == 1 && stored[0].key.hasPrefix("uploads/"))
        #expect(try harness.events().first?.label == "....etcpasswd")
    }

    @Test func healthz() async throws {
        let harness = try Harness()
        try await harness.test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
