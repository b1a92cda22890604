import Common

/// How the extractor shares its memory limit (docs/extractor.md, "Memory
/// budget"): 40 % for decodes (`DecodeAdmission`), 20 % for fetched photos
/// (`FetchBudget`), the rest for what does not grow with the photos (the
/// model and each worker's network buffers, Kafka's queues, the runtime:
/// about 0.3 GB with two workers).
public struct ExtractorMemoryBudget: Sendable, Equatable {
    public static let decodeShare = 0.4
    public static let fetchShare = 0.2

    public let limit: MemoryLimit
    public let decodeBytes: Int
    public let fetchBytes: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The shares of `limit`, or the bytes given (`--decode-memory`, `--fetch-memory`).
    /// The fetch budget holds at least one object of `maxObjectBytes`.
    public init(limit: MemoryLimit, decodeBytes: Int? = nil, fetchBytes: Int? = nil, maxObjectBytes: Int) throws(Invalid) {
        self.limit = limit
        self.decodeBytes = decodeBytes ?? Int(Double(limit.bytes) * Self.decodeShare)
        self.fetchBytes = fetchBytes ?? max(maxObjectBytes, Int(Double(limit.bytes) * Self.fetchShare))
        guard self.decodeBytes >= 1 << 20 else {
            throw Invalid(description: "the decode memory budget is \(self.decodeBytes) bytes; give at least 1 MiB (--decode-memory)")
        }
        guard self.fetchBytes >= maxObjectBytes else {
            throw Invalid(description: "the fetch memory budget (\(self.fetchBytes) bytes) must hold one object of up to \(maxObjectBytes) bytes (--fetch-memory)")
        }
        guard self.decodeBytes + self.fetchBytes < limit.bytes else {
            throw Invalid(description: "decode (\(self.decodeBytes)) plus fetch (\(self.fetchBytes)) budgets leave nothing of the \(limit.bytes)-byte memory limit (\(limit.source)) for the model; lower --decode-memory or --fetch-memory")
        }
    }
}
