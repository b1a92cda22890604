/// Reads Thrift's compact protocol into a generic tree, enough to walk the
/// footer and page headers of Parquet files.
struct ThriftCompactReader {
    indirect enum Value {
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case binary([UInt8])
        case list([Value])
        case structure([Int16: Value])

        var int: Int64? { if case .int(let v) = self { v } else { nil } }
        var binary: [UInt8]? { if case .binary(let v) = self { v } else { nil } }
        var string: String? { binary.map { String(decoding: $0, as: UTF8.self) } }
        var list: [Value]? { if case .list(let v) = self { v } else { nil } }
        var fields: [Int16: Value]? { if case .structure(let v) = self { v } else { nil } }
        subscript(_ id: Int16) -> Value? { fields?[id] }
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Deeper nesting than any Parquet footer has; it bounds the recursion a
    /// hostile file could ask for.
    static let maximumDepth = 32

    let bytes: [UInt8]
    private(set) var position: Int
    private var depth = 0

    init(bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func readStruct() throws -> [Int16: Value] {
        guard depth < Self.maximumDepth else { throw Malformed(description: "Thrift data nested too deeply") }
        depth += 1
        defer { depth -= 1 }
        var fields: [Int16: Value] = [:]
        var lastID: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return fields }
            let type = header & 0x0F
            let delta = Int16(header >> 4)
            let id: Int16 = delta != 0 ? lastID &+ delta : Int16(truncatingIfNeeded: unzigzag(try varint()))
            lastID = id
            fields[id] = try value(type: type)
        }
    }

    /// A length or count read from the data: it must fit in what is left.
    private mutating func size() throws -> Int {
        let raw = try varint()
        guard raw <= UInt64(bytes.count - position) else { throw Malformed(description: "length \(raw) past the end") }
        return Int(raw)
    }

    private mutating func value(type: UInt8) throws -> Value {
        switch type {
        case 1: return .bool(true)
        case 2: return .bool(false)
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(unzigzag(try varint()))
        case 7:
            guard position >= 0, bytes.count - position >= 8 else { throw Malformed(description: "double past the end") }
            var raw: UInt64 = 0
            for i in 0..<8 { raw |= UInt64(bytes[position + i]) << (8 * i) }
            position += 8
            return .double(Double(bitPattern: raw))
        case 8:
            let length = try size()
            defer { position += length }
            return .binary(Array(bytes[position..<(position + length)]))
        case 9, 10:
            guard depth < Self.maximumDepth else { throw Malformed(description: "Thrift data nested too deeply") }
            depth += 1
            defer { depth -= 1 }
            let header = try byte()
            var count = Int(header >> 4)
            // Every element takes at least a byte, so a count past the end is a lie.
            if count == 15 { count = try size() }
            let elementType = header & 0x0F
            var elements: [Value] = []
            for _ in 0..<count {
                // Booleans inside lists are whole bytes.
                elements.append(elementType == 1 || elementType == 2 ? .bool(try byte() == 1) : try value(type: elementType))
            }
            return .list(elements)
        case 12:
            return .structure(try readStruct())
        default:
            throw Malformed(description: "unsupported Thrift type \(type)")
        }
    }

    private mutating func byte() throws -> UInt8 {
        guard position >= 0, position < bytes.count else { throw Malformed(description: "unexpected end of Thrift data") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw Malformed(description: "varint too long") }
        }
    }

    private func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }
}
