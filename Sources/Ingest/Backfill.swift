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
    public func events() async throws -> (events: [Fruits_V1_ImageEvent], skipped: Int) {
        let objects = try await store.list(prefix: "")
        let now = EventIdentity.nowMicros()
        let events = objects.compactMap { event(for: $0, ingestedAt: now) }
        return (events, objects.count - events.count)
    }

    /// Lists the location page by page and sends each page's events while
    /// the next page is listed, so the first events leave after one page
    /// rather than after the whole listing (10 M photos are 10,000 S3 pages,
    /// minutes at S3's latency). Memory holds two pages. `listed` hears how
    /// many images each page adds, `sent` how many are acknowledged.
    public func sendAll(listed: @Sendable (Int) -> Void = { _ in }, sent: (@Sendable (Int) -> Void)? = nil) async throws
        -> (sent: Int, skipped: Int)
    {
        var total = 0, skipped = 0
        var nextPage: Task<ObjectListPage, any Error>? = listing(after: nil)
        while let page = try await nextPage?.value {
            nextPage = page.next.map { listing(after: $0) }
            let now = EventIdentity.nowMicros()
            let events = page.objects.compactMap { event(for: $0, ingestedAt: now) }
            skipped += page.objects.count - events.count
            listed(events.count)
            try await send(events, progress: sent)
            total += events.count
        }
        return (total, skipped)
    }

    private func listing(after continuation: String?) -> Task<ObjectListPage, any Error> {
        Task { [store] in try await store.listPage(prefix: "", continuation: continuation) }
    }

    private func event(for object: (key: String, size: Int), ingestedAt: Int64) -> Fruits_V1_ImageEvent? {
        guard ImageFiles.isImagePath(object.key) else { return nil }
        var event = Fruits_V1_ImageEvent()
        event.uri = store.location.uri(of: object.key)
        event.imageID = EventIdentity.imageID(uri: event.uri)
        event.label = Self.label(of: object.key)
        event.source = .backfill
        event.ingestedAtMicros = ingestedAt
        event.sizeBytes = Int64(object.size)
        return event
    }

    /// The parent folder's name (`ImageLabel.sanitized`), or "" for a file at the root.
    public static func label(of key: String) -> String {
        let parts = key.split(separator: "/")
        return parts.count >= 2 ? ImageLabel.sanitized(String(parts[parts.count - 2])) : ""
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
