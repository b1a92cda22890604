import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import TestSupport
import Testing

@testable import Extractor

#if canImport(Glibc)
import Glibc
#endif

/// An object only one image can be blamed for (archived, encrypted with a
/// key the extractor may not use, in another region, missing, not a regular
/// file) is that image's dead letter after a bounded number of tries; the
/// extractor goes on. Access lost for every object stops it, and no image is
/// dead-lettered for it.
@Suite("Extractor service: poison objects against the loopback S3", .tags(.integration), .serialized)
struct PoisonObjectTests {
    struct Harness {
        let cluster: EmbeddedKafkaCluster
        let topics = PipelineTopics()
        let kafka: KafkaConfiguration
        let producer: KafkaProducer
        let reader: KafkaConsumer

        init() throws {
            cluster = try EmbeddedKafkaCluster()
            for topic in topics.all { try cluster.createTopic(topic, partitions: 1) }
            kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
            producer = try KafkaProducer(configuration: kafka)
            reader = try KafkaConsumer(configuration: kafka, groupID: "reader", subscription: .group(topics: [topics.features, topics.deadLetters]))
        }

        func send(_ uris: [String]) async throws {
            for uri in uris {
                let event = ExtractionServiceTests.imageEvent(uri: uri)
                try await producer.send(topic: topics.images, key: Array(event.imageID.utf8), value: try event.serializedBytes())
            }
        }

        /// `linger`: how long a batch waits for more records, so records already sent arrive in one batch.
        func start(_ fetcher: ObjectFetcher, patience: Duration = .seconds(20), linger: Duration = .zero) throws -> Task<Void, any Error> {
            let pool = try InferencePool(weightsPath: Fixtures.weightsPath, configuration: .init())
            var configuration = ExtractionService.Configuration(kafka: kafka)
            configuration.accessDeniedPatience = patience
            configuration.maxWait = linger
            let service = try ExtractionService(configuration: configuration, pool: pool, fetcher: fetcher, logger: Logger(label: "test"))
            return Task { try await service.run() }
        }

        /// uri → "features", or the dead letter's reason and message, for `count` records.
        func outcomes(_ count: Int, within limit: Duration = .seconds(90)) async throws -> [String: String] {
            var outcomes: [String: String] = [:]
            let deadline = ContinuousClock.now + limit
            while outcomes.count < count, ContinuousClock.now < deadline {
                for message in try await reader.poll(upTo: 20, timeout: .milliseconds(200)) {
                    if message.topic == topics.features {
                        outcomes[try Fruits_V1_FeatureEvent(serializedBytes: message.value).uri] = "features"
                    } else {
                        let letter = try Fruits_V1_DeadLetter(serializedBytes: message.value)
                        outcomes[letter.uri] = "\(letter.reason): \(letter.message)"
                    }
                }
            }
            return outcomes
        }
    }

    static func bucket(_ name: String, good: Int) async throws -> (server: S3TestServer, bucket: String) {
        let server = try await S3TestServer.shared()
        let client = try server.client()
        let bucket = "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        let photos = ["fruit_100_a.jpg", "fruit_100_b.jpg", "fruit_100_c.jpg"]
        for index in 0..<good {
            try await client.putObject(bucket: bucket, key: "Test/good-\(index).jpg", body: try Fixtures.bytes(photos[index % photos.count]))
        }
        return (server, bucket)
    }

    @Test(.timeLimit(.minutes(3)))
    func poisonObjectsAreDeadLetteredAfterBoundedTriesAndTheExtractorGoesOn() async throws {
        let (server, bucket) = try await Self.bucket("poison", good: 5)
        let objectFaults: [String: (fault: S3TestServer.Fault, says: String)] = [
            "archived.jpg": (.init(403, "InvalidObjectState", "The operation is not valid for the object's storage class"), "InvalidObjectState"),
            "kms.jpg": (.init(403, "AccessDenied", "The ciphertext refers to a customer master key that does not exist"), "this object only"),
            "disabled-key.jpg": (.init(400, "KMS.DisabledException", "The key is disabled"), "KMS.DisabledException"),
            "customer-key.jpg": (.init(400, "InvalidRequest", "The object was stored using a form of Server Side Encryption"), "InvalidRequest"),
            "elsewhere.jpg": (.init(301, "PermanentRedirect", "The bucket is in another region"), "PermanentRedirect"),
        ]
        try await server.fail(Dictionary(uniqueKeysWithValues: objectFaults.map { ("\(bucket)/Test/\($0.key)", $0.value.fault) }))
        let directory = Tools.temporaryPath("poison-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(mkfifo(directory + "/fifo.jpg", 0o600) == 0)

        var expected: [String: String] = [:]
        for index in 0..<4 { expected["s3://\(bucket)/Test/good-\(index).jpg"] = "features" }
        for (key, fault) in objectFaults { expected["s3://\(bucket)/Test/\(key)"] = fault.says }
        expected["s3://\(bucket)/Test/missing.jpg"] = "NoSuchKey"
        expected["file:///dev/zero"] = "character device"
        expected[URL(fileURLWithPath: directory + "/fifo.jpg").absoluteString] = "FIFO"
        expected[URL(fileURLWithPath: directory).absoluteString] = "directory"

        let harness = try Harness()
        try await harness.send(expected.keys.sorted())
        let fetcher = ObjectFetcher(s3: .success(try server.client(endpoint: server.faultEndpoint)))
        let running = try harness.start(fetcher)
        defer { running.cancel() }

        let outcomes = try await harness.outcomes(expected.count)
        for (uri, says) in expected {
            let outcome = outcomes[uri] ?? "(nothing)"
            if says == "features" {
                #expect(outcome == "features", "\(uri): \(outcome)")
            } else {
                #expect(outcome.hasPrefix("unreadable_object: ") && outcome.contains(says), "\(uri): \(outcome)")
            }
        }
        // Each poison object was tried three times, not once and not forever.
        for key in objectFaults.keys.sorted() + ["missing.jpg"] {
            #expect(try await server.requests("\(bucket)/Test/\(key)") == 3, "\(key)")
        }
        // And the extractor is still at work.
        try await harness.send(["s3://\(bucket)/Test/good-4.jpg"])
        #expect(try await harness.outcomes(1) == ["s3://\(bucket)/Test/good-4.jpg": "features"])
    }

    /// The extractor read an object, then S3 refuses every object: the probe
    /// of the one read before is refused too, so access is lost. One image is
    /// enough to tell, and it is not dead-lettered: the extractor stops.
    @Test(.timeLimit(.minutes(2)))
    func accessLostForEveryObjectStopsTheExtractorWithoutADeadLetter() async throws {
        let (server, bucket) = try await Self.bucket("lost", good: 2)
        let harness = try Harness()
        let running = try harness.start(ObjectFetcher(s3: .success(try server.client(endpoint: server.faultEndpoint))), patience: .seconds(2))
        defer { running.cancel() }
        try await harness.send(["s3://\(bucket)/Test/good-0.jpg"])
        #expect(try await harness.outcomes(1) == ["s3://\(bucket)/Test/good-0.jpg": "features"])

        try await server.fail(["\(bucket)/*": .init(403, "AccessDenied", "Access Denied")])
        try await harness.send(["s3://\(bucket)/Test/good-1.jpg"])
        let error = await #expect(throws: ObjectFetcher.ServiceError.self) { try await running.value }
        #expect("\(error.map { "\($0)" } ?? "")".contains("refused too"))
        #expect(try await harness.outcomes(1, within: .seconds(3)).isEmpty)
    }

    /// Nothing read from the bucket yet, and a batch's objects all denied:
    /// as many distinct objects as `deniedObjectsForLoss` in a row is access
    /// lost, not that many poison objects. (Were the ten split over batches
    /// of fewer, the first batch's would be dead-lettered: with nothing to
    /// probe, a few denials are the objects'.)
    @Test(.timeLimit(.minutes(2)))
    func aBatchOfDeniedObjectsWithNothingReadBeforeStopsTheExtractor() async throws {
        let (server, bucket) = try await Self.bucket("denied", good: 10)
        try await server.fail(["\(bucket)/*": .init(403, "AccessDenied", "Access Denied")])
        let harness = try Harness()
        try await harness.send((0..<10).map { "s3://\(bucket)/Test/good-\($0).jpg" })
        let running = try harness.start(ObjectFetcher(s3: .success(try server.client(endpoint: server.faultEndpoint))), patience: .seconds(2),
                                        linger: .seconds(2))
        defer { running.cancel() }
        let error = await #expect(throws: ObjectFetcher.ServiceError.self) { try await running.value }
        #expect("\(error.map { "\($0)" } ?? "")".contains("denied in a row"))
        let outcomes = try await harness.outcomes(1, within: .seconds(3))
        #expect(outcomes.isEmpty, "\(outcomes)")
    }
}
