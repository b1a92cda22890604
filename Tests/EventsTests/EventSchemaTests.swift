import Events
import Foundation
import TestSupport
import Testing

@Suite("Event schemas", .tags(.integration))
struct EventSchemaTests {
    static func decodeInPython(_ message: String, _ bytes: Data) throws -> [String: Any] {
        let path = Tools.temporaryPath("event-\(UUID().uuidString).bin")
        try bytes.write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.python)
        process.arguments = [Tools.root.appendingPathComponent("tools/decode_event.py").path, message, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return try JSONSerialization.jsonObject(with: output) as! [String: Any]
    }

    @Test func featureEventEncodedInSwiftDecodesInPython() throws {
        var event = Fruits_V1_FeatureEvent()
        event.imageID = "0123456789abcdef0123456789abcdef"
        event.uri = "s3://fruits/Test/Apple Braeburn/0_100.jpg"
        event.label = "Apple Braeburn"
        event.source = .backfill
        event.ingestedAtMicros = 1_764_000_000_000_000
        event.extractedAtMicros = 1_764_000_000_123_456
        event.modelVersion = "mobilenet_v2_1.0_224@sha256:65bb1590"
        event.features = (0..<1280).map { Float($0) * 0.25 - 7 }
        let decoded = try Self.decodeInPython("fruits.v1.FeatureEvent", try event.serializedBytes())
        #expect(decoded["image_id"] as? String == event.imageID)
        #expect(decoded["uri"] as? String == event.uri)
        #expect(decoded["label"] as? String == "Apple Braeburn")
        #expect(decoded["source"] as? String == "BACKFILL")
        #expect(decoded["ingested_at_micros"] as? String == "1764000000000000")
        #expect(decoded["model_version"] as? String == event.modelVersion)
        let features = (decoded["features"] as? [NSNumber])?.map(\.floatValue)
        #expect(features == event.features)
    }

    @Test func garbageIsRejectedNotMisread() {
        #expect(throws: (any Error).self) {
            try Fruits_V1_ImageEvent(serializedBytes: [0xFF, 0xFF, 0xFF, 0x01, 0x02])
        }
    }
}

@Suite("Topic settings of the pipeline")
struct PipelineTopicSettingsTests {
    @Test func everyTopicWithItsRetentionAndDurability() {
        let specs = PipelineTopics().settings(partitions: 12)
        #expect(specs.map(\.name) == ["fruits.images", "fruits.images.live", "fruits.features", "fruits.deadletter", "fruits.results"])
        #expect(specs.allSatisfy { $0.partitions == 12 && $0.replicationFactor == -1 && $0.config["min.insync.replicas"] == "2" })
        #expect(specs.map { $0.config["retention.ms"] } == ["604800000", "604800000", "604800000", "2592000000", nil])
        #expect(specs.map { $0.config["cleanup.policy"] } == ["delete", "delete", "delete", "delete", "compact"],
                "answers are state: the latest per image id is kept, not expired")
        let single = PipelineTopics().settings(partitions: 3, replicationFactor: 1)
        #expect(single.allSatisfy { $0.config["min.insync.replicas"] == nil })
    }
}
