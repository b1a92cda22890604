/// Writes Thrift's compact protocol, the encoding of Parquet's footer and page
/// headers (field headers with id deltas, zigzag varints, length-prefixed
/// binaries, short-form list headers).
struct ThriftCompactWriter {
    enum FieldType: UInt8 {
        case booleanTrue = 1, booleanFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
        case binary = 8, list = 9, set = 10, map = 11, structure = 12
    }

    private(set) var bytes: [UInt8] = []
    private var lastFieldIDs: [Int16] = [0]

    init() {}

    /// Continues a struct whose earlier fields were written elsewhere (up to
    /// `afterField`), so large lists can be spliced in without copying.
    static func continuing(afterField id: Int16) -> ThriftCompactWriter {
        var writer = ThriftCompactWriter()
        writer.lastFieldIDs = [0, id]
        return writer
    }

    mutating func fieldHeader(_ id: Int16, _ type: FieldType) {
        let delta = id - lastFieldIDs[lastFieldIDs.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(zigzag(Int64(id)))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    mutating func field(_ id: Int16, i32 value: Int32) {
        fieldHeader(id, .i32)
        varint(zigzag(Int64(value)))
    }

    mutating func field(_ id: Int16, i64 value: Int64) {
        fieldHeader(id, .i64)
        varint(zigzag(value))
    }

    mutating func field(_ id: Int16, bool value: Bool) {
        fieldHeader(id, value ? .booleanTrue : .booleanFalse)
    }

    mutating func field(_ id: Int16, binary value: [UInt8]) {
        fieldHeader(id, .binary)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func field(_ id: Int16, string value: String) {
        field(id, binary: Array(value.utf8))
    }

    mutating func field(_ id: Int16, structure body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .structure)
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func field<T>(_ id: Int16, list elements: [T], of type: FieldType, _ write: (inout ThriftCompactWriter, T) -> Void) {
        fieldHeader(id, .list)
        listHeader(count: elements.count, type)
        for element in elements { write(&self, element) }
    }

    mutating func listHeader(count: Int, _ type: FieldType) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    /// A struct as a list element: its fields, then STOP.
    mutating func element(structure body: (inout ThriftCompactWriter) -> Void) {
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func element(i32 value: Int32) { varint(zigzag(Int64(value))) }

    mutating func element(string value: String) {
        varint(UInt64(value.utf8.count))
        bytes += Array(value.utf8)
    }

    mutating func beginStruct() { lastFieldIDs.append(0) }

    mutating func endStruct() {
        bytes.append(0)  // STOP
        lastFieldIDs.removeLast()
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
}
