/// Parquet's RLE/bit-packed hybrid for repetition and definition levels,
/// written as RLE runs only (levels here are long runs of equal values),
/// prefixed by the 4-byte length data page v1 expects.
enum LevelEncoder {
    static func bitWidth(ofMaximum maximum: Int) -> Int {
        maximum == 0 ? 0 : Int.bitWidth - maximum.leadingZeroBitCount
    }

    static func encode(_ levels: [UInt8], maximum: Int) -> [UInt8] {
        let valueBytes = (bitWidth(ofMaximum: maximum) + 7) / 8
        var body: [UInt8] = []
        var index = 0
        while index < levels.count {
            let value = levels[index]
            var end = index + 1
            while end < levels.count && levels[end] == value { end += 1 }
            var header = UInt64(end - index) << 1
            while header >= 0x80 {
                body.append(UInt8(header & 0x7F) | 0x80)
                header >>= 7
            }
            body.append(UInt8(header))
            body.append(value)
            body += [UInt8](repeating: 0, count: valueBytes - 1)
            index = end
        }
        let length = UInt32(body.count)
        return [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] + body
    }
}
