/// Min, max (PLAIN bytes, as the footer stores them) and null count of a
/// column chunk. Lists keep only the null count.
struct ColumnStatistics {
    var nullCount: Int64 = 0
    private var minInt: Int64?
    private var maxInt: Int64?
    private var minFloat: Float?
    private var maxFloat: Float?
    private var minBytes: [UInt8]?
    private var maxBytes: [UInt8]?

    mutating func add(_ value: Int64) {
        minInt = Swift.min(minInt ?? value, value)
        maxInt = Swift.max(maxInt ?? value, value)
    }

    mutating func add(_ value: Float) {
        guard !value.isNaN else { return }
        minFloat = Swift.min(minFloat ?? value, value)
        maxFloat = Swift.max(maxFloat ?? value, value)
    }

    mutating func add(_ bytes: [UInt8]) {
        if minBytes.map({ bytes.lexicographicallyPrecedes($0) }) ?? true { minBytes = bytes }
        if maxBytes.map({ $0.lexicographicallyPrecedes(bytes) }) ?? true { maxBytes = bytes }
    }

    var minimum: [UInt8]? {
        if let minInt { return PlainEncoding.bytes(minInt) }
        if let minFloat { return PlainEncoding.bytes(minFloat) }
        return minBytes
    }

    var maximum: [UInt8]? {
        if let maxInt { return PlainEncoding.bytes(maxInt) }
        if let maxFloat { return PlainEncoding.bytes(maxFloat) }
        return maxBytes
    }
}

enum PlainEncoding {
    static func bytes(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func bytes(_ value: Float) -> [UInt8] { withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    static func bytes(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
}
