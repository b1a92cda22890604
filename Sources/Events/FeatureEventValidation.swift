/// Whether a feature event's features can be used: decided here once, for
/// the reducer (which dead-letters what is refused) and the answerer (which
/// answers it as failed with the same reason), so the two never disagree.
public struct FeatureEventValidation: Sendable {
    /// Why an event is refused: `reason` as `DeadLetter.reason` names it.
    public struct Refusal: Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public let message: String
        public var description: String { "\(reason): \(message)" }
    }

    /// MobileNetV2's features are the global average pool of ReLU6 outputs,
    /// so each is a mean of values clipped to [0, 6]. The extractor sums the
    /// 49 positions in Float32 and multiplies by 1/49: the result can exceed
    /// 6 by about 49 units of Float32 rounding (2e-5) and can never be below 0
    /// (a sum of non-negative values rounds to a non-negative value). 1e-3
    /// covers that rounding fifty times over and still refuses anything a
    /// model did not compute.
    public static let mobileNetV2Range: ClosedRange<Float> = 0...(6 + 1e-3)

    public let dimension: Int

    public init(dimension: Int) { self.dimension = dimension }

    /// nil when the features are usable.
    public func refusal(of features: [Float]) -> Refusal? {
        guard features.count == dimension else {
            return Refusal(reason: "malformed_event", message: "\(features.count) features, expected \(dimension)")
        }
        // One NaN or infinity would poison the Gram matrix, every later checkpoint and the PCA.
        if let index = features.firstIndex(where: { !$0.isFinite }) {
            return Refusal(reason: "non_finite_features", message: "feature \(index) is \(features[index]): features hold NaN or infinity")
        }
        // A finite but absurd value (1e30) would do the same: its square dwarfs every other image in the Gram matrix.
        if let index = features.firstIndex(where: { !Self.mobileNetV2Range.contains($0) }) {
            return Refusal(reason: "features_out_of_range",
                           message: "feature \(index) is \(features[index]), outside MobileNetV2's pooled ReLU6 range [0, 6]")
        }
        return nil
    }
}

extension FeatureEventValidation {
    /// What a record of the features topic is to a stage that reads it.
    public enum Verdict: Sendable {
        case usable(Fruits_V1_FeatureEvent, ImageKey)
        /// Not usable: the dead letter says why, with the image's id when the record has a usable one.
        case refused(Fruits_V1_DeadLetter)
    }

    /// Decodes a features-topic record and judges it: the reducer
    /// dead-letters what is refused here, and the answerer answers it as
    /// failed with the same reason.
    public func judge(_ record: RecordOrigin, stage: DeadLetters.Stage) -> Verdict {
        guard let event = try? Fruits_V1_FeatureEvent(serializedBytes: record.value) else {
            return .refused(DeadLetters.malformed(record, stage: stage, why: "not a fruits.v1.FeatureEvent"))
        }
        guard let key = ImageKey(imageID: event.imageID) else {
            return .refused(DeadLetters.malformed(
                record, stage: stage, why: "image_id \(event.imageID.prefix(64).debugDescription) is not 32 lowercase hex digits"))
        }
        if let refusal = refusal(of: event.features) {
            return .refused(DeadLetters.failed(imageID: event.imageID, uri: event.uri, source: event.source, read: record,
                                               stage: stage, reason: refusal.reason, message: refusal.message))
        }
        return .usable(event, key)
    }
}
