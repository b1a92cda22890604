import Events
import Foundation
import Logging
import ObjectStorage
import Synchronization
import TestSupport
import Testing

@testable import Extractor

/// What an image event becomes, without a broker or the model: a stand-in
/// for the inference pool answers features for photos that start with
/// "JPEG" and `corrupt` for the rest.
@Suite("Image processing: every image event ends as features or one dead letter, no broker needed")
struct ImageProcessingTests {
    final class StandInFeatures: FeatureSource {
        let modelVersion = "stand-in-1"
        let decodings = Mutex<[DecodeOptions?]>([])

        func features(ofJPEGs jpegs: [[UInt8]], priority: InferencePool.Priority,
                      decoding: DecodeOptions?) async throws -> [Result<[Float], ImageError>] {
            decodings.withLock { $0.append(decoding) }
            return jpegs.map { bytes in
                bytes.starts(with: Array("JPEG".utf8)) ? .success([Float(bytes.count), 1, 2]) : .failure(.corrupt("stand-in: no JPEG"))
            }
        }
    }

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("image-processing-\(UUID().uuidString)")

    /// A feature source that fails as the inference pool does when the service stops.
    struct StoppedFeatures: FeatureSource {
        struct Stopped: Error {}
        let modelVersion = "stand-in-1"
        func features(ofJPEGs jpegs: [[UInt8]], priority: InferencePool.Priority,
                      decoding: DecodeOptions?) async throws -> [Result<[Float], ImageError>] {
            throw Stopped()
        }
    }

    func processing(_ features: any FeatureSource, budget: FetchBudget? = nil) -> ImageProcessing {
        let logger = Logger(label: "test")
        return ImageProcessing(features: features,
                               fetch: ImageFetch(fetcher: .localFiles(), objectAttempts: 2, accessDeniedPatience: .zero, logger: logger),
                               fetchBudget: budget, topics: PipelineTopics(), uploadDecoding: .upload, backfillDecoding: .seed, logger: logger)
    }

    func record(_ value: [UInt8], offset: Int64) -> RecordOrigin {
        RecordOrigin(topic: "fruits.images", partition: 3, offset: offset, value: value)
    }

    func event(_ name: String) throws -> [UInt8] {
        var event = Fruits_V1_ImageEvent()
        event.uri = directory.appendingPathComponent(name).absoluteString
        event.imageID = EventIdentity.imageID(uri: event.uri)
        event.label = "Apple"
        event.source = .upload
        event.ingestedAtMicros = 1_700_000_000_000_000
        return try event.serializedBytes()
    }

    @Test func featuresForAGoodPhotoAndOneDeadLetterWithItsReasonForEachFault() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("JPEG good photo".utf8).write(to: directory.appendingPathComponent("good.jpg"))
        try Data("<html>not a photo</html>".utf8).write(to: directory.appendingPathComponent("page.jpg"))
        var noURI = Fruits_V1_ImageEvent()
        noURI.imageID = String(repeating: "0", count: 32)

        let features = StandInFeatures()
        let outputs = try await processing(features).process([
            record([0xFF, 0x13, 0x37], offset: 10),
            record(try noURI.serializedBytes(), offset: 11),
            record(try event("good.jpg"), offset: 12),
            record(try event("missing.jpg"), offset: 13),
            record(try event("page.jpg"), offset: 14),
        ], priority: .interactive)

        let sent = try #require(outputs.first { $0.topic == "fruits.features" })
        #expect(outputs.count { $0.topic == "fruits.features" } == 1)
        let feature = try Fruits_V1_FeatureEvent(serializedBytes: sent.value)
        #expect(feature.uri.hasSuffix("/good.jpg") && feature.label == "Apple" && feature.source == .upload)
        #expect(feature.features == [15, 1, 2] && feature.modelVersion == "stand-in-1")
        #expect(feature.ingestedAtMicros == 1_700_000_000_000_000 && feature.extractedAtMicros > feature.ingestedAtMicros)
        #expect(feature.decode == DecodeOptions.upload.description, "an upload is decoded as the phone showed it")
        #expect(sent.key == Array(feature.imageID.utf8))

        let letters = try outputs.filter { $0.topic == "fruits.deadletter" }.map { try Fruits_V1_DeadLetter(serializedBytes: $0.value) }
        #expect(letters.map(\.offset).sorted() == [10, 11, 13, 14], "one dead letter per fault, none for the good photo")
        let byOffset = Dictionary(uniqueKeysWithValues: letters.map { ($0.offset, $0) })
        #expect(byOffset[10]?.reason == "malformed_event" && byOffset[10]?.original == Data([0xFF, 0x13, 0x37]))
        #expect(byOffset[11]?.reason == "malformed_event")
        #expect(byOffset[13]?.reason == "unreadable_object" && byOffset[13]?.uri.hasSuffix("/missing.jpg") == true)
        #expect(byOffset[14]?.reason == "corrupt" && byOffset[14]?.message.contains("stand-in") == true)
        #expect(letters.allSatisfy { $0.stage == "extract" && $0.topic == "fruits.images" && $0.partition == 3 })
        #expect(byOffset[14]?.source == .upload && byOffset[14]?.original.isEmpty == true, "a named image keeps no bytes")
    }

    @Test func eachLaneDecodesItsOwnWay() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("JPEG good photo".utf8).write(to: directory.appendingPathComponent("good.jpg"))
        let features = StandInFeatures()
        _ = try await processing(features).process([record(try event("good.jpg"), offset: 1)], priority: .interactive)
        _ = try await processing(features).process([record(try event("good.jpg"), offset: 2)], priority: .backfill)
        #expect(features.decodings.withLock { $0 } == [DecodeOptions.upload, DecodeOptions.seed])
    }

    @Test func theFetchBudgetHoldsTheBatchAndGetsEveryByteBack() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for n in 0..<6 { try Data("JPEG photo \(n)".utf8).write(to: directory.appendingPathComponent("\(n).jpg")) }
        let batch = try (0..<6).map { record(try event("\($0).jpg"), offset: Int64($0)) }
        // Room for two objects at the fetcher's size limit: the batch of six goes through two at a time.
        let budget = FetchBudget(capacity: 2 * ObjectFetcher.localFiles().maxBytes, maxWait: .seconds(30))

        let outputs = try await processing(StandInFeatures(), budget: budget).process(batch, priority: .backfill)
        #expect(outputs.count { $0.topic == "fruits.features" } == 6)
        try await Tools.waitUntil("every byte is back after the batch", timeout: .seconds(10)) { await budget.usage.inUse == 0 }
        #expect(await budget.usage.peak <= budget.capacity)

        await #expect(throws: StoppedFeatures.Stopped.self) {
            _ = try await processing(StoppedFeatures(), budget: budget).process(batch, priority: .interactive)
        }
        try await Tools.waitUntil("every byte is back after a failed batch", timeout: .seconds(10)) { await budget.usage.inUse == 0 }
    }
}
