import Foundation

/// Where a record was read: what a dead letter names so that someone can
/// find the record again.
public struct RecordOrigin: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let value: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, value: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.value = value
    }
}

/// The one way the stages build a dead letter (`fruits.deadletter`), so the
/// extractor's, the reducer's and the answerer's say the same things the same way.
public enum DeadLetters {
    /// The stage that gave up on a record, as `DeadLetter.stage` names it.
    public enum Stage: String, Sendable {
        case extract, reduce, answer
    }

    /// A record that is not what `events.proto` promises: its bytes are
    /// kept, since they are all there is to look at.
    public static func malformed(_ record: RecordOrigin, stage: Stage, why: String) -> Fruits_V1_DeadLetter {
        var letter = Fruits_V1_DeadLetter()
        letter.reason = "malformed_event"
        letter.message = why
        letter.stage = stage.rawValue
        letter.topic = record.topic
        letter.partition = record.partition
        letter.offset = record.offset
        letter.original = Data(record.value)
        letter.failedAtMicros = EventIdentity.nowMicros()
        return letter
    }

    /// An image a stage could not use: its id, path and source say which;
    /// the record's bytes are not kept (the image is named).
    public static func failed(imageID: String, uri: String, source: Fruits_V1_Source, read record: RecordOrigin,
                              stage: Stage, reason: String, message: String) -> Fruits_V1_DeadLetter {
        var letter = malformed(record, stage: stage, why: message)
        letter.reason = reason
        letter.imageID = imageID
        letter.uri = uri
        letter.source = source
        letter.original = Data()
        return letter
    }
}
