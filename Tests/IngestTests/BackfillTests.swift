import Events
import Foundation
import Ingest
import Kafka
import ObjectStorage
import Synchronization
import TestSupport
import Testing

@Suite("Backfill", .tags(.integration))
struct BackfillTests {
    /// 1,500 photos are two S3 pages: events leave page by page, every photo
    /// once, with its label and id, and the file that is not a photo is skipped.
    @Test func sendsAnS3PrefixPageByPage() async throws {
        let server = try await S3TestServer.shared()
        let client = try server.client()
        let bucket = "backfill-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        let keys = (0..<1500).map { String(format: "Test/label-%02d/%04d_100.jpg", $0 % 7, $0) } + ["Test/README.txt"]
        try await client.putAll(keys, bucket: bucket) { _ in [0xFF, 0xD8, 0xFF, 0xD9] }

        let cluster = try EmbeddedKafkaCluster()
        try cluster.createTopic(PipelineTopics().images, partitions: 3)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka)
        let store = S3ObjectStore(client: client, bucket: bucket, prefix: "")
        let pages = Mutex<[Int]>([])
        let backfill = Backfill(store: store, producer: producer, topic: PipelineTopics().images)
        let (sent, skipped) = try await backfill.sendAll(listed: { count in pages.withLock { $0.append(count) } })
        try await producer.close()
        #expect(sent == 1500 && skipped == 1)
        #expect(pages.withLock { $0 } == [999, 501])  // S3 pages of 1,000 keys; README.txt sorts first

        let consumer = try KafkaConsumer(configuration: kafka, groupID: "backfill-test", subscription: .group(topics: [PipelineTopics().images]))
        var events: [String: Fruits_V1_ImageEvent] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while events.count < sent, ContinuousClock.now < deadline {
            for message in try await consumer.poll(upTo: 500, timeout: .milliseconds(500)) {
                let event = try Fruits_V1_ImageEvent(serializedBytes: message.value)
                events[event.uri] = event
            }
        }
        try await consumer.close()
        #expect(events.count == 1500, "events on the topic within 30 s")
        let uri = "s3://\(bucket)/Test/label-03/0010_100.jpg"
        #expect(events[uri]?.label == "label-03" && events[uri]?.imageID == EventIdentity.imageID(uri: uri))
    }
}
