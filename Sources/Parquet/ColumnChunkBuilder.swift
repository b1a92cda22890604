/// Accumulates one column of the current row group: levels, PLAIN values and
/// statistics, cut into data pages (v1) at row boundaries.
struct ColumnChunkBuilder {
    struct Page {
        let header: [UInt8]
        let body: [UInt8]
        let uncompressedSize: Int
    }

    let column: ParquetSchema.Column
    private(set) var pages: [Page] = []
    private(set) var statistics = ColumnStatistics()
    private(set) var totalLevelCount = 0
    private var repetitionLevels: [UInt8] = []
    private var definitionLevels: [UInt8] = []
    private var values: [UInt8] = []
    private var levelCount = 0

    init(column: ParquetSchema.Column) { self.column = column }

    var bufferedBytes: Int { values.count + repetitionLevels.count + definitionLevels.count }

    mutating func append(_ value: ParquetValue) {
        let maxDefinition = UInt8(column.maxDefinitionLevel)
        if value.isNull {
            statistics.nullCount += 1
            addLevels(repetition: 0, definition: 0)
            return
        }
        switch value {
        case .string(let string?):
            let bytes = Array(string.utf8)
            values += PlainEncoding.bytes(UInt32(bytes.count))
            values += bytes
            statistics.add(bytes)
            addLevels(repetition: 0, definition: maxDefinition)
        case .int64(let number?), .timestamp(let number?):
            values += PlainEncoding.bytes(number)
            statistics.add(number)
            addLevels(repetition: 0, definition: maxDefinition)
        case .float(let number?):
            values += PlainEncoding.bytes(number)
            statistics.add(number)
            addLevels(repetition: 0, definition: maxDefinition)
        case .floatList(let list?):
            if list.isEmpty {
                addLevels(repetition: 0, definition: maxDefinition - 1)
            } else {
                values.reserveCapacity(values.count + list.count * 4)
                for (index, element) in list.enumerated() {
                    values += PlainEncoding.bytes(element)
                    addLevels(repetition: index == 0 ? 0 : 1, definition: maxDefinition)
                }
            }
        default:
            preconditionFailure("null cases are handled above")
        }
    }

    private mutating func addLevels(repetition: UInt8, definition: UInt8) {
        if column.maxRepetitionLevel > 0 { repetitionLevels.append(repetition) }
        if column.maxDefinitionLevel > 0 { definitionLevels.append(definition) }
        levelCount += 1
    }

    /// Closes the current page, if it holds anything. Call at row boundaries.
    mutating func finishPage(compression: ParquetCompression) throws {
        guard levelCount > 0 else { return }
        var body: [UInt8] = []
        body.reserveCapacity(bufferedBytes + 16)
        if column.maxRepetitionLevel > 0 {
            body += LevelEncoder.encode(repetitionLevels, maximum: column.maxRepetitionLevel)
        }
        if column.maxDefinitionLevel > 0 {
            body += LevelEncoder.encode(definitionLevels, maximum: column.maxDefinitionLevel)
        }
        body += values
        let compressed = try compression.compress(body)

        var header = ThriftCompactWriter()
        header.beginStruct()
        header.field(1, i32: 0)  // DATA_PAGE
        header.field(2, i32: Int32(body.count))
        header.field(3, i32: Int32(compressed.count))
        header.field(5) { page in
            page.field(1, i32: Int32(levelCount))
            page.field(2, i32: 0)  // PLAIN
            page.field(3, i32: 3)  // RLE
            page.field(4, i32: 3)  // RLE
        }
        header.endStruct()
        pages.append(Page(header: header.bytes, body: compressed, uncompressedSize: body.count))

        totalLevelCount += levelCount
        levelCount = 0
        repetitionLevels.removeAll(keepingCapacity: true)
        definitionLevels.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    mutating func reset() {
        pages = []
        statistics = ColumnStatistics()
        totalLevelCount = 0
    }
}
