import Crypto
import Foundation

/// Stable image ids and the model version string events carry.
public enum EventIdentity {
    /// The first 32 hex digits of SHA-256 of the image's URI: the same object
    /// always gets the same id, so a re-run backfill deduplicates downstream.
    public static func imageID(uri: String) -> String {
        String(sha256Hex(Array(uri.utf8)).prefix(32))
    }

    public static func sha256Hex<D: DataProtocol>(_ bytes: D) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Microseconds since the Unix epoch, now.
    public static func nowMicros() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
    }
}

/// The topics of the pipeline; their names can be changed by configuration.
public struct PipelineTopics: Sendable {
    /// Backfill image events.
    public var images = "fruits.images"
    /// Uploads' image events: extractors serve this topic first, so a
    /// person's photo never queues behind a backfill.
    public var liveImages = "fruits.images.live"
    public var features = "fruits.features"
    public var deadLetters = "fruits.deadletter"
    /// Every image's answer, keyed by image id (compacted).
    public var results = "fruits.results"
    public init() {}
    public var all: [String] { [images, liveImages, features, deadLetters, results] }
}

/// The consumer groups of the pipeline: what lag tools and autoscalers watch.
public enum PipelineGroups {
    /// The extractors' group on `fruits.images` (KEDA scales on its lag).
    public static let extractors = "fruits-extractors"
    /// The same extractors' group on `fruits.images.live`.
    public static let liveExtractors = "fruits-extractors-live"
    /// The answerers' group on the feature and dead-letter topics.
    public static let answerers = "fruits-answerers"
    /// Where the reducer commits its offsets (it reads by fixed assignment).
    public static let reducer = "fruits-reducer"
}
