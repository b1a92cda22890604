import Common
import Events
import Foundation
import Kafka
import Logging
import ObjectStorage

/// Lists the JPEGs below a location (S3 prefix or directory) and emits one
/// `ImageEvent` per photo, keyed by its stable image id. The label is the
/// photo's parent folder, as in Fruits-360's `Test/<label>/<n>_100.jpg`.
public struct Backfill: Sendable {
    public let store: any ObjectStore
    public let producer: KafkaProducer
    public let topic: String
    /// Records awaiting their delivery report at once.
    public var window = 1000

    public init(store: any ObjectStore, producer: KafkaProducer, topic: String) {
        self.store = store
        self.producer = producer
        self.topic = topic
    }

    /// The events for every image below the location, in key order.
    public func events() throws -> (events: [Fruits_V1_ImageEvent], skipped: Int) {
        let objects = try store.list(prefix: "")
        let images = objects.filter { ImageFiles.isImagePath($0.key) }
        let now = EventIdentity.nowMicros()
        let events = images.map { object in
            var event = Fruits_V1_ImageEvent()
            event.uri = store.location.uri(of: object.key)
            event.imageID = EventIdentity.imageID(uri: event.uri)
            event.label = Self.label(of: object.key)
            event.source = .backfill
            event.ingestedAtMicros = now
            event.sizeBytes = Int64(object.size)
            return event
        }
        return (events, objects.count - images.count)
    }

    /// The parent folder's name, or "" for a file at the root.
    public static func label(of key: String) -> String {
        let parts = key.split(separator: "/")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : ""
    }

    /// Sends the events and returns once all are acknowledged.
    public func send(_ events: [Fruits_V1_ImageEvent], progress: (@Sendable (Int) -> Void)? = nil) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for event in events {
                if inFlight >= window {
                    try await group.next()
                    inFlight -= 1
                    progress?(1)
                }
                let value = try event.serializedBytes() as [UInt8]
                let key = Array(event.imageID.utf8)
                group.addTask { try await producer.send(topic: topic, key: key, value: value) }
                inFlight += 1
            }
            while try await group.next() != nil { progress?(1) }
        }
    }
}
