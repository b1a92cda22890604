import Events
import Foundation
import Testing

@Suite("Feature event validation: MobileNetV2's physical range")
struct FeatureEventValidationTests {
    let validation = FeatureEventValidation(dimension: 3)

    @Test func theBoundsAndRoundingAreAccepted() {
        #expect(validation.refusal(of: [0, 3, 6]) == nil)
        #expect(validation.refusal(of: [-0.0, 6.0005, 0.000001]) == nil)
        #expect(validation.refusal(of: [Float(6).nextUp, 1, 1]) == nil)
    }

    @Test func everythingElseIsRefusedWithItsReason() {
        #expect(validation.refusal(of: [1e30, 1, 1])?.reason == "features_out_of_range")
        #expect(validation.refusal(of: [1, 6.01, 1])?.reason == "features_out_of_range")
        #expect(validation.refusal(of: [1, 1, -Float.leastNonzeroMagnitude])?.reason == "features_out_of_range")
        #expect(validation.refusal(of: [1, -1e30, 1])?.message.contains("feature 1 is") == true)
        #expect(validation.refusal(of: [1, .infinity, 1e30])?.reason == "non_finite_features")
        #expect(validation.refusal(of: [.nan, 1, 1])?.reason == "non_finite_features")
        #expect(validation.refusal(of: [1, 1])?.reason == "malformed_event")
    }

    /// One judge for the reducer and the answerer: bytes that are no event
    /// and ids that are no image id are malformed, their bytes kept; refused
    /// features name the image and keep no bytes; the stage says who refused.
    @Test func recordsAreJudgedOnceForEveryStage() throws {
        func record(_ value: [UInt8]) -> RecordOrigin { RecordOrigin(topic: "fruits.features", partition: 2, offset: 41, value: value) }
        func event(id: String, features: [Float]) throws -> [UInt8] {
            var event = Fruits_V1_FeatureEvent()
            event.imageID = id
            event.uri = "s3://photos/Apple/1.jpg"
            event.source = .upload
            event.features = features
            return try event.serializedBytes()
        }
        let id = String(repeating: "ab", count: 16)

        guard case .usable(let usable, let key) = validation.judge(record(try event(id: id, features: [1, 2, 3])), stage: .reduce)
        else { Issue.record("good features were refused"); return }
        #expect(usable.imageID == id && key.hex == id)

        guard case .refused(let garbage) = validation.judge(record([0xFF, 0xFF, 0xFF]), stage: .reduce)
        else { Issue.record("bytes that are no event were accepted"); return }
        #expect(garbage.reason == "malformed_event" && garbage.stage == "reduce" && garbage.imageID.isEmpty)
        #expect(garbage.original == Data([0xFF, 0xFF, 0xFF]) && garbage.topic == "fruits.features" && garbage.partition == 2 && garbage.offset == 41)

        guard case .refused(let badID) = validation.judge(record(try event(id: id.uppercased(), features: [1, 2, 3])), stage: .answer)
        else { Issue.record("an uppercase id was accepted"); return }
        #expect(badID.reason == "malformed_event" && badID.stage == "answer" && badID.message.contains("32 lowercase hex digits"))

        guard case .refused(let refused) = validation.judge(record(try event(id: id, features: [1, .nan, 3])), stage: .reduce)
        else { Issue.record("NaN was accepted"); return }
        #expect(refused.reason == "non_finite_features" && refused.imageID == id && refused.uri == "s3://photos/Apple/1.jpg")
        #expect(refused.source == .upload && refused.original.isEmpty && refused.failedAtMicros > 0)
    }
}
