import Common
import Foundation

/// Everything a reducer needs to resume, saved as one object after each
/// flush: the PCA statistics, the ids already written, the next Kafka
/// offsets to read and the flush sequence number. Writing this object is
/// the commit point: parts written after it are rewritten on replay, under
/// the same names.
///
/// Layout: magic "FRCKPT01", u64 LE header length, JSON header, then
/// little-endian data: `sum` (d doubles), the Gram matrix's upper triangle
/// row by row (d(d+1)/2 doubles), the feature ids and then the dead-letter
/// ids as 16 raw bytes each.
public struct ReducerCheckpoint: Sendable {
    public var sequence = 0
    public var accumulator: PCAAccumulator
    public var offsets: [TopicPartition: Int64] = [:]
    public var seenFeatures: Set<ImageKey> = []
    public var seenDeadLetters: Set<ImageKey> = []

    public init(dimension: Int) { accumulator = PCAAccumulator(dimension: dimension) }

    private struct Header: Codable {
        struct Offset: Codable { let topic: String; let partition: Int32; let next: Int64 }
        let sequence: Int
        let dimension: Int
        let count: Int
        let offsets: [Offset]
        let features: Int
        let deadLetters: Int
    }

    public func serialized() throws -> [UInt8] {
        let d = accumulator.dimension
        let header = Header(
            sequence: sequence, dimension: d, count: accumulator.count,
            offsets: offsets.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
                .map { .init(topic: $0.key.topic, partition: $0.key.partition, next: $0.value) },
            features: seenFeatures.count, deadLetters: seenDeadLetters.count)
        let json = try JSONEncoder().encode(header)
        var bytes = Array("FRCKPT01".utf8)
        bytes.reserveCapacity(16 + json.count + (d + d * (d + 1) / 2) * 8 + (seenFeatures.count + seenDeadLetters.count) * 16)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        bytes += json
        func append(_ value: Double) { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        accumulator.sum.forEach(append)
        for i in 0..<d { for j in i..<d { append(accumulator.gram[i * d + j]) } }
        for key in seenFeatures.sorted() { bytes += key.bytes }
        for key in seenDeadLetters.sorted() { bytes += key.bytes }
        return bytes
    }

    public init(bytes: [UInt8]) throws {
        struct Corrupt: Error, CustomStringConvertible { let description: String }
        guard bytes.count >= 16, bytes.prefix(8).elementsEqual("FRCKPT01".utf8) else { throw Corrupt(description: "not a reducer checkpoint") }
        let length = bytes[8..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard 16 + length <= bytes.count else { throw Corrupt(description: "checkpoint header runs past the end") }
        let header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + length)]))
        let d = header.dimension
        let needed = 16 + length + (d + d * (d + 1) / 2) * 8 + (header.features + header.deadLetters) * 16
        guard bytes.count == needed else { throw Corrupt(description: "checkpoint has \(bytes.count) bytes, expected \(needed)") }
        var position = 16 + length
        func double() -> Double {
            var raw: UInt64 = 0
            for i in 0..<8 { raw |= UInt64(bytes[position + i]) << (8 * i) }
            position += 8
            return Double(bitPattern: raw)
        }
        let sum = (0..<d).map { _ in double() }
        var gram = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in i..<d { gram[i * d + j] = double() } }
        func keys(_ count: Int) -> Set<ImageKey> {
            defer { position += count * 16 }
            return Set((0..<count).map { ImageKey(bytes: Array(bytes[(position + $0 * 16)..<(position + $0 * 16 + 16)])) })
        }
        seenFeatures = keys(header.features)
        seenDeadLetters = keys(header.deadLetters)
        sequence = header.sequence
        accumulator = PCAAccumulator(dimension: d, count: header.count, sum: sum, gram: gram)
        offsets = Dictionary(uniqueKeysWithValues: header.offsets.map { (TopicPartition(topic: $0.topic, partition: $0.partition), $0.next) })
    }
}

/// An image id (32 hex digits) held as its 16 bytes.
public struct ImageKey: Hashable, Comparable, Sendable {
    let high: UInt64
    let low: UInt64

    init(bytes: [UInt8]) {
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// nil for ids that are not 32 hex digits.
    public init?(imageID: String) {
        guard imageID.utf8.count == 32, let high = UInt64(imageID.prefix(16), radix: 16), let low = UInt64(imageID.suffix(16), radix: 16)
        else { return nil }
        self.high = high
        self.low = low
    }

    var bytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) } }

    public static func < (a: ImageKey, b: ImageKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
