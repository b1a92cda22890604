import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import Kafka
import Logging
import ObjectStorage
import TestSupport
import Testing

@Suite("Upload endpoint", .tags(.integration))
struct UploadServerTests {
    static let token = "s3cr3t-upload-token"
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0x42, count: 2000) + [0xFF, 0xD9]

    /// A server over a temporary directory and an embedded broker, plus a consumer of its events.
    struct Harness {
        let cluster: EmbeddedKafkaCluster
        let store: LocalObjectStore
        let server: UploadServer
        let answers = RecentResults(capacity: 100)

        init(maxBodyBytes: Int = 1 << 20, maxBufferedBytes: Int = 64 << 20, statusPage: UploadStatusPage = UploadStatusPage()) throws {
            cluster = try EmbeddedKafkaCluster()
            try cluster.createTopic(PipelineTopics().liveImages, partitions: 2)
            store = try LocalObjectStore(root: Tools.temporaryPath("uploads-\(UUID().uuidString.prefix(8))"))
            var configuration = UploadServer.Configuration(token: UploadServerTests.token)
            configuration.maxBodyBytes = maxBodyBytes
            configuration.maxBufferedBytes = maxBufferedBytes
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
            server = UploadServer(configuration: configuration, store: store, producer: producer, answers: answers,
                                  statusPage: statusPage, logger: Logger(label: "test"))
        }

        func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
            let application = Application(router: server.makeRouter())
            return try await application.test(.router, body)
        }

        /// One upload through a client of its own.
        func upload(_ query: String = "", body: [UInt8] = UploadServerTests.jpeg,
                    headers: HTTPFields = UploadServerTests.authorized) async throws -> TestResponse {
            try await test { client in try await client.upload(query, body: body, headers: headers) }
        }

        /// Every event on the live topic (waiting on the consumer's thread, not the test pool's).
        func events() async throws -> [Fruits_V1_ImageEvent] {
            let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers),
                                             groupID: "check-\(UUID())", subscription: .group(topics: [PipelineTopics().liveImages]))
            var events: [Fruits_V1_ImageEvent] = []
            while case let batch = try await consumer.poll(upTo: 100, timeout: .seconds(5)), !batch.isEmpty {
                events += try batch.map { try Fruits_V1_ImageEvent(serializedBytes: $0.value) }
            }
            try await consumer.close()
            return events
        }
    }

    /// The status page needs no token and shows counts, never an id or a path.
    @Test func theStatusPageCountsRecentUploadsWithoutAToken() async throws {
        let results = try LocalObjectStore(root: Tools.temporaryPath("status-\(UUID().uuidString.prefix(8))"))
        let harness = try Harness(statusPage: UploadStatusPage(results: results) { [("images waiting for an extractor (consumer lag)", "7")] })
        try await harness.test { client in
            let imageID = try Self.json(try await client.upload("?label=Kiwi"))["image_id"] as? String ?? ""
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
        let response = try await harness.upload("?label=Apple%20Braeburn")
        #expect(response.status == .accepted)
        #expect((try Self.json(response)["image_id"] as? String)?.count == 32)
        let stored = try await harness.store.list(prefix: "uploads/")
        #expect(stored.count == 1)
        await #expect(try harness.store.get(stored[0].key) == Self.jpeg)
        let events = try await harness.events()
        #expect(events.count == 1)
        #expect(events.first?.label == "Apple Braeburn")
        #expect(events.first?.source == .upload)
        #expect(events.first?.uri.hasSuffix(stored[0].key) == true)
    }

    @Test func missingOrWrongTokenIs401() async throws {
        let harness = try Harness()
        #expect(try await harness.upload(headers: [.contentType: "image/jpeg"]).status == .unauthorized)
        #expect(try await harness.upload(headers: [.authorization: "Bearer wrong-token-of-same-l"]).status == .unauthorized)
        await #expect(try harness.store.list(prefix: "").isEmpty)
    }

    @Test func bodyAboveTheLimitIs413() async throws {
        let harness = try Harness(maxBodyBytes: 1000)
        #expect(try await harness.upload().status == .contentTooLarge)
        await #expect(try harness.store.list(prefix: "").isEmpty)
    }

    @Test func nonJPEGIs415() async throws {
        let harness = try Harness()
        #expect(try await harness.upload(body: Array("<html>not a photo</html>".utf8)).status == .unsupportedMediaType)
    }

    /// A label is data, never part of a key: one that looks like a path is
    /// refused, and nothing is stored or announced.
    @Test func labelsCannotEscapeTheUploadsPrefix() async throws {
        let harness = try Harness()
        #expect(try await harness.upload("?label=..%2F..%2Fetc%2Fpasswd").status == .badRequest)
        #expect(try await harness.upload("?label=Apple").status == .accepted)
        let stored = try await harness.store.list(prefix: "").filter { !$0.key.hasSuffix(".fruits-ready") }
        #expect(stored.count == 1 && stored[0].key.hasPrefix("uploads/"))
        #expect(try await harness.events().map(\.label) == ["Apple"])
    }

    @Test func healthz() async throws {
        let harness = try Harness()
        try await harness.test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    static func result(_ imageID: String, label: String = "", top: [(String, Float)] = [("Kiwi", 0.75), ("Lime", 0.25)],
                       version: Int64 = 3, source: Fruits_V1_Source = .unspecified) -> Fruits_V1_ImageResult {
        var result = Fruits_V1_ImageResult()
        result.imageID = imageID
        result.source = source
        result.status = .done
        result.label = label
        result.modelVersion = version
        result.pca = version > 0 ? [1, 2, 3] : []
        result.top = version > 0 ? top.map { label, score in
            var entry = Fruits_V1_ImageResult.LabelScore()
            entry.label = label
            entry.score = score
            return entry
        } : []
        if version > 0 {
            result.classifier = "softmax"
            result.neighbours = [("Kiwi", Float(0.98), "s3://photos/Kiwi/1.jpg"), ("Lime", 1.0000001, "")].enumerated().map { index, near in
                var neighbour = Fruits_V1_ImageResult.Neighbour()
                neighbour.imageID = String(format: "%032x", index + 1)
                (neighbour.label, neighbour.similarity, neighbour.uri) = near
                return neighbour
            }
        }
        return result
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    /// `?wait=S` answers 200 the moment the image's result arrives on the
    /// results feed; here a stand-in pipeline answers every upload event.
    @Test func anUploadWithWaitGetsItsAnswerWhenItArrives() async throws {
        let harness = try Harness()
        let pipeline = Task.detached {
            let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: harness.cluster.bootstrapServers),
                                             groupID: "pipeline-\(UUID())", subscription: .group(topics: [PipelineTopics().liveImages]))
            while !Task.isCancelled {
                for message in try await consumer.poll(upTo: 10, timeout: .milliseconds(100)) {
                    let event = try Fruits_V1_ImageEvent(serializedBytes: message.value)
                    try? await Task.sleep(for: .milliseconds(300))
                    harness.answers.record(Self.result(event.imageID, label: event.label))
                }
            }
            try await consumer.close()
        }
        defer { pipeline.cancel() }
        try await harness.test { client in
            let response = try await client.upload("?label=Kiwi&wait=8")
            #expect(response.status == .ok)
            let answer = try Self.json(response)
            #expect(answer["status"] as? String == "done")
            #expect(answer["label"] as? String == "Kiwi")
            #expect(answer["model_version"] as? Int == 3)
            #expect((answer["pca"] as? [Double])?.count == 3)
            let prediction = try #require(answer["prediction"] as? [String: Any])
            #expect(prediction["label"] as? String == "Kiwi")
            #expect((prediction["top"] as? [[String: Any]])?.count == 2)
            // Why: the labelled photos nearest to it, a URI only where the answerer gave one, similarity within the contract's [-1, 1].
            #expect(answer["classifier"] as? String == "softmax")
            let neighbours = try #require(answer["neighbours"] as? [[String: Any]])
            #expect(neighbours.map { $0["label"] as? String } == ["Kiwi", "Lime"])
            #expect(neighbours.map { $0["uri"] as? String } == ["s3://photos/Kiwi/1.jpg", nil])
            #expect(neighbours.map { $0["image_id"] as? String } == [String(format: "%032x", 1), String(format: "%032x", 2)])
            #expect((neighbours[1]["similarity"] as? Double).map { $0 <= 1 } == true)
        }
    }

    @Test func aWaitThatRunsOutIsPendingAndAMalformedWaitIs400() async throws {
        let harness = try Harness()
        try await harness.test { client in
            let started = ContinuousClock.now
            let response = try await client.upload("?wait=0.3")
            #expect(response.status == .accepted)
            #expect(try Self.json(response)["status"] as? String == "pending")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await client.upload("?wait=soon").status == .badRequest)
        }
    }

    @Test func getAnswersPendingDoneFailedAndUnknown() async throws {
        let harness = try Harness()
        try await harness.test { client in
            let imageID = try Self.json(try await client.upload("?label=Lime"))["image_id"] as? String ?? ""
            let get = { (id: String, check: @escaping @Sendable (TestResponse) throws -> Void) in
                try await client.execute(uri: "/v1/images/\(id)", method: .get, headers: Self.authorized) { try check($0) }
            }
            try await get(imageID) { response in
                #expect(response.status == .ok)
                let answer = try Self.json(response)
                #expect(answer["status"] as? String == "pending")
                #expect(answer["label"] as? String == "Lime")
            }
            harness.answers.record(Self.result(imageID, label: "Lime", version: 0))
            try await get(imageID) { response in
                let answer = try Self.json(response)
                #expect(answer["status"] as? String == "done")
                #expect(answer["prediction"] == nil)
                #expect((answer["note"] as? String)?.contains("no model") == true)
            }
            var failed = Fruits_V1_ImageResult()
            failed.imageID = imageID
            failed.status = .failed
            failed.reason = "truncated"
            harness.answers.record(failed)
            try await get(imageID) { response in
                let answer = try Self.json(response)
                #expect(answer["status"] as? String == "failed")
                #expect(answer["reason"] as? String == "truncated")
            }
            try await get(String(repeating: "0", count: 32)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/images/\(imageID)", method: .get) { #expect($0.status == .unauthorized) }
        }
    }
}

extension TestClientProtocol {
    /// POSTs a photo to /v1/images as the app does: its token, image/jpeg.
    func upload(_ query: String = "", body: [UInt8] = UploadServerTests.jpeg,
                headers: HTTPFields = UploadServerTests.authorized) async throws -> TestResponse {
        try await execute(uri: "/v1/images\(query)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }
}

@Suite("Recent results")
struct RecentResultsTests {
    @Test func theOldestImagesAreForgottenFirst() {
        let results = RecentResults(capacity: 3)
        for id in ["a", "b", "c", "d"] { results.record(UploadServerTests.result(id, source: .upload)) }
        #expect(results["a"] == nil)
        #expect(results.count == 3)
        results.record(UploadServerTests.result("b", version: 4, source: .upload))  // a newer answer does not make it younger
        results.accepted("e", label: "")
        #expect(results["b"] == nil && results["c"] != nil && results["e"] != nil)
    }

    @Test func aWaiterIsResumedByItsResultOrByItsTimeout() async throws {
        let results = RecentResults()
        async let answer = results.result(of: "x", waitingUpTo: .seconds(10))
        try await Task.sleep(for: .milliseconds(100))
        results.record(UploadServerTests.result("x"))
        let started = ContinuousClock.now
        #expect(await answer?.imageID == "x")
        #expect(ContinuousClock.now - started < .seconds(5), "resumed by the result, not by the 10 s timeout")
        #expect(await results.result(of: "never", waitingUpTo: .milliseconds(200)) == nil)
    }
}
