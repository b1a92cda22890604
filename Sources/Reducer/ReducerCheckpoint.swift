import Foundation
import Kafka
import Results

/// Everything a reducer needs to resume, saved as one object after each
/// flush: the PCA statistics, the next Kafka offsets to read, the flush
/// sequence number and which process run (epoch) committed which flushes.
/// Writing this object is the commit point: files a flush wrote before it
/// count only once it names their flush and epoch. The ids already in the
/// results are not in here but in per-flush manifests (`WrittenImages`), so
/// this object does not grow with the data.
///
/// Layout: magic "FRCKPT03", u64 LE header length, JSON header, then
/// little-endian data: `sum` (d doubles) and the Gram matrix's upper
/// triangle row by row (d(d+1)/2 doubles).
public struct ReducerCheckpoint: Sendable {
    public var sequence = 0
    public var accumulator: PCAAccumulator
    public var offsets: [TopicPartition: Int64] = [:]
    public var deadLetters = 0
    public var epochs = EpochHistory()
    /// Where `offsets` point into: offsets of another cluster, or of a topic
    /// that was deleted and created again, would silently skip its records.
    public var source: KafkaSource?
    /// The last model version this results' reducers published (or were
    /// about to: a version is counted here before its files are written, so
    /// no version number is ever written twice).
    public var modelVersion = 0
    /// The images that version was fitted on: a restarted reducer publishes
    /// again only once there are more.
    public var modelSamples = 0

    /// A Kafka cluster and the partition counts of the topics read from it.
    public struct KafkaSource: Codable, Sendable, Equatable {
        public var clusterID: String
        public var partitions: [String: Int]

        public init(clusterID: String, partitions: [String: Int]) {
            self.clusterID = clusterID
            self.partitions = partitions
        }
    }

    public init(dimension: Int) { accumulator = PCAAccumulator(dimension: dimension) }

    /// Whether the files named `flush` are part of these results.
    func commits(_ flush: FlushName) -> Bool {
        epochs.committed(sequence: flush.sequence, by: flush.epoch, upTo: sequence)
    }

    /// Version 03: results whose files are named by flush and epoch, with
    /// per-flush id manifests (02 had one marker object per image).
    private static let magic = Array("FRCKPT03".utf8)

    private struct Header: Codable {
        struct Offset: Codable { let topic: String; let partition: Int32; let next: Int64 }
        let sequence: Int
        let dimension: Int
        let count: Int
        let offsets: [Offset]
        let deadLetters: Int
        let epochs: [EpochHistory.Entry]
        /// Absent in checkpoints written before it existed.
        let source: KafkaSource?
        let modelVersion: Int?
        let modelSamples: Int?
    }

    public func serialized() throws -> [UInt8] {
        let d = accumulator.dimension
        let header = Header(
            sequence: sequence, dimension: d, count: accumulator.count,
            offsets: offsets.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
                .map { .init(topic: $0.key.topic, partition: $0.key.partition, next: $0.value) },
            deadLetters: deadLetters, epochs: epochs.entries, source: source, modelVersion: modelVersion, modelSamples: modelSamples)
        let json = try JSONEncoder().encode(header)
        var bytes = Self.magic
        bytes.reserveCapacity(16 + json.count + (d + d * (d + 1) / 2) * 8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        bytes += json
        func append(_ value: Double) { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        accumulator.sum.forEach(append)
        for i in 0..<d { for j in i..<d { append(accumulator.gram[i * d + j]) } }
        return bytes
    }

    /// The largest dimension a checkpoint may declare: its Gram matrix is
    /// d(d+1)/2 doubles, so this bounds what a hostile header makes the
    /// reader compute and compare before the byte count is checked.
    static let maximumDimension = 1 << 16
    /// More flushes, images or versions than any results reach, and far
    /// enough below Int.max that the reducer's own arithmetic on them
    /// (the next sequence, the next version) cannot overflow.
    static let maximumCount = 1 << 53

    /// Reads a checkpoint, checking every length, count and total before it
    /// is used; `file` names it in every error. With `dimension`, a
    /// checkpoint of another dimension is refused too (its Gram matrix could
    /// not take these features).
    public init(bytes: [UInt8], file: String = "the reducer checkpoint", dimension: Int? = nil) throws {
        func unreadable(_ why: String) -> UnreadableFile { UnreadableFile(file: file, why: why) }
        if bytes.starts(with: Array("FRCKPT02".utf8)) {
            throw unreadable("these results were written by an earlier fruits (one id marker per image), which this "
                + "one does not read; finish them with that version, or write to new results")
        }
        guard bytes.count >= 16, bytes.prefix(8).elementsEqual(Self.magic) else {
            throw unreadable("not a reducer checkpoint of this version (\(String(decoding: bytes.prefix(8), as: UTF8.self).debugDescription))")
        }
        let declared = bytes[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard declared <= UInt64(bytes.count - 16) else {
            throw unreadable("its header length \(declared) runs past the end of its \(bytes.count) bytes")
        }
        let length = Int(declared)
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + length)])) } catch {
            throw unreadable("its header is not the checkpoint's JSON: \(error)")
        }
        let d = header.dimension
        guard (1...Self.maximumDimension).contains(d) else { throw unreadable("dimension \(d) is not from 1 to \(Self.maximumDimension)") }
        if let dimension, d != dimension {
            throw unreadable("it holds \(d)-dimensional statistics, and this reducer reads \(dimension)-dimensional features")
        }
        let needed = 16 + length + (d + d * (d + 1) / 2) * 8
        guard bytes.count == needed else { throw unreadable("it has \(bytes.count) bytes, its header says \(needed)") }
        try Self.check(header, unreadable: unreadable)

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
        // A NaN or infinity here would poison every later model.
        guard sum.allSatisfy(\.isFinite), gram.allSatisfy(\.isFinite) else { throw unreadable("its sums hold NaN or infinity") }
        guard (0..<d).allSatisfy({ gram[$0 * d + $0] >= 0 }) else { throw unreadable("a sum of squares is negative") }
        guard header.count > 0 || (sum.allSatisfy { $0 == 0 } && gram.allSatisfy { $0 == 0 }) else {
            throw unreadable("it counts no image but holds sums")
        }
        sequence = header.sequence
        accumulator = PCAAccumulator(dimension: d, count: header.count, sum: sum, gram: gram)
        offsets = Dictionary(uniqueKeysWithValues: header.offsets.map { (TopicPartition(topic: $0.topic, partition: $0.partition), $0.next) })
        deadLetters = header.deadLetters
        epochs = EpochHistory(entries: header.epochs)
        source = header.source
        modelVersion = header.modelVersion ?? 0
        modelSamples = header.modelSamples ?? 0
    }

    /// The header's counts and totals, each within what a reducer writes.
    private static func check(_ header: Header, unreadable: (String) -> UnreadableFile) throws {
        let counts = [header.sequence, header.count, header.deadLetters, header.modelVersion ?? 0, header.modelSamples ?? 0]
        guard counts.allSatisfy({ (0...maximumCount).contains($0) }) else {
            throw unreadable("a sequence, image, dead-letter, model version or sample count outside 0...\(maximumCount): \(counts)")
        }
        var seen = Set<TopicPartition>()
        for offset in header.offsets {
            guard offset.partition >= 0, offset.next >= 0 else {
                throw unreadable("offset \(offset.next) of \(offset.topic) partition \(offset.partition) is negative")
            }
            guard seen.insert(TopicPartition(topic: offset.topic, partition: offset.partition)).inserted else {
                throw unreadable("\(offset.topic) partition \(offset.partition) has two offsets")
            }
        }
        // A claim records the epoch of the flush after `sequence` before it commits it.
        var previous = 0
        for entry in header.epochs {
            guard entry.first >= max(previous, 1), entry.first - 1 <= header.sequence else {
                throw unreadable("epoch history out of order: flush \(entry.first) after \(previous), checkpoint at \(header.sequence)")
            }
            previous = entry.first
        }
        guard (header.source?.partitions.values.allSatisfy { $0 >= 0 }) ?? true else { throw unreadable("a negative partition count") }
        let version = header.modelVersion ?? 0, samples = header.modelSamples ?? 0
        guard samples <= header.count else {
            throw unreadable("model version \(version) over \(samples) samples, of \(header.count) images")
        }
    }
}

/// Which process run committed which flushes: each entry's epoch committed
/// the sequences from its `first` up to the next entry's. A reducer draws a
/// random epoch when it starts and appends itself with its first commit, so
/// an epoch that crashed before committing never appears.
public struct EpochHistory: Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public let first: Int
        public let epoch: UInt64
    }

    public private(set) var entries: [Entry] = []

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Records that `epoch` commits `sequence` (and what follows).
    public mutating func commit(sequence: Int, by epoch: UInt64) {
        if entries.last?.epoch != epoch { entries.append(Entry(first: sequence, epoch: epoch)) }
    }

    /// Whether flush `sequence` written by `epoch` is part of a checkpoint
    /// that went up to `committed`.
    public func committed(sequence: Int, by epoch: UInt64, upTo committed: Int) -> Bool {
        guard sequence >= 1, sequence <= committed, let entry = entries.last(where: { $0.first <= sequence }) else { return false }
        return entry.epoch == epoch
    }
}
