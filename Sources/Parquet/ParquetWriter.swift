/// Writes a Parquet file row by row: row groups of `layout.rowGroupRows`,
/// data pages v1 of about `layout.pageBytes` cut at row boundaries, PLAIN
/// values with RLE levels, min/max/null-count statistics, optional ZSTD.
///
/// Format: apache/parquet-format (`PAR1`, column chunks, Thrift compact
/// FileMetaData, its 4-byte length, `PAR1`).
public final class ParquetWriter {
    /// How a file is cut and packed.
    public struct Layout: Sendable {
        /// Rows per row group, the unit a reader skips by its statistics or
        /// reads in parallel.
        public var rowGroupRows = 10_000
        /// A column's data page ends at the first row boundary past this size.
        public var pageBytes = 1 << 20
        public var compression: ParquetCompression = .zstd(level: 3)
        /// Key-value pairs for the file's footer.
        public var metadata: [(String, String)] = []

        public init() {}
    }

    public let schema: ParquetSchema
    public let layout: Layout
    private let output: any ParquetOutput
    private var columns: [ColumnChunkBuilder]
    private var rowsInGroup = 0
    private var totalRows: Int64 = 0
    private var offset: Int64 = 0
    private var rowGroups: [[UInt8]] = []
    private var closed = false

    public init(schema: ParquetSchema, output: any ParquetOutput, layout: Layout = Layout()) throws {
        precondition(layout.rowGroupRows >= 1 && layout.pageBytes >= 1)
        self.schema = schema
        self.output = output
        self.layout = layout
        self.columns = schema.columns.map(ColumnChunkBuilder.init)
        try emit(Array("PAR1".utf8))
    }

    public var rowCount: Int64 { totalRows }

    public func append(_ row: [ParquetValue]) throws {
        guard !closed else { throw ParquetError.closed }
        guard row.count == columns.count else { throw ParquetError.wrongColumnCount(expected: columns.count, got: row.count) }
        for (column, value) in zip(schema.columns, row) {
            guard value.matches(column.type) else { throw ParquetError.wrongType(column: column.name, expected: column.type) }
            if value.isNull && !column.nullable { throw ParquetError.nullInRequiredColumn(column.name) }
        }
        for index in columns.indices {
            columns[index].append(row[index])
            if columns[index].bufferedBytes >= layout.pageBytes { try columns[index].finishPage(compression: layout.compression) }
        }
        rowsInGroup += 1
        totalRows += 1
        if rowsInGroup == layout.rowGroupRows { try flushRowGroup() }
    }

    /// Writes the last row group and the footer, then closes the output.
    public func close() throws {
        guard !closed else { return }
        try flushRowGroup()
        closed = true
        let footer = fileMetadata()
        try emit(footer)
        try emit(PlainEncoding.bytes(UInt32(footer.count)))
        try emit(Array("PAR1".utf8))
        try output.close()
    }

    private func emit(_ bytes: [UInt8]) throws {
        try output.write(bytes)
        offset += Int64(bytes.count)
    }

    private func flushRowGroup() throws {
        guard rowsInGroup > 0 else { return }
        let groupStart = offset
        var chunks: [[UInt8]] = []
        var uncompressedTotal: Int64 = 0
        for index in columns.indices {
            try columns[index].finishPage(compression: layout.compression)
            let chunkStart = offset
            var uncompressed: Int64 = 0
            for page in columns[index].pages {
                try emit(page.header)
                try emit(page.body)
                uncompressed += Int64(page.header.count + page.uncompressedSize)
            }
            uncompressedTotal += uncompressed
            chunks.append(columnChunk(columns[index], start: chunkStart, compressed: offset - chunkStart, uncompressed: uncompressed))
            columns[index].reset()
        }
        var group = ThriftCompactWriter()
        group.beginStruct()
        group.fieldHeader(1, .list)
        group.listHeader(count: chunks.count, .structure)
        var bytes = group.bytes
        for chunk in chunks { bytes += chunk }
        var rest = ThriftCompactWriter.continuing(afterField: 1)
        rest.field(2, i64: uncompressedTotal)
        rest.field(3, i64: Int64(rowsInGroup))
        rest.field(5, i64: groupStart)
        rest.field(6, i64: offset - groupStart)
        rest.endStruct()
        rowGroups.append(bytes + rest.bytes)
        rowsInGroup = 0
    }

    /// A ColumnChunk struct (as a list element).
    private func columnChunk(_ builder: ColumnChunkBuilder, start: Int64, compressed: Int64, uncompressed: Int64) -> [UInt8] {
        let column = builder.column
        var writer = ThriftCompactWriter()
        writer.element { chunk in
            chunk.field(2, i64: start)
            chunk.field(3) { meta in
                meta.field(1, i32: column.physicalType)
                meta.field(2, list: [0, 3] as [Int32], of: .i32) { $0.element(i32: $1) }  // PLAIN, RLE
                meta.field(3, list: column.pathInSchema, of: .binary) { $0.element(string: $1) }
                meta.field(4, i32: layout.compression.codec)
                meta.field(5, i64: Int64(builder.totalLevelCount))
                meta.field(6, i64: uncompressed)
                meta.field(7, i64: compressed)
                meta.field(9, i64: start)
                meta.field(12) { statistics in
                    let stats = builder.statistics
                    statistics.field(3, i64: stats.nullCount)
                    if let maximum = stats.maximum { statistics.field(5, binary: maximum) }
                    if let minimum = stats.minimum { statistics.field(6, binary: minimum) }
                }
            }
        }
        return writer.bytes
    }

    private func fileMetadata() -> [UInt8] {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.field(1, i32: 1)
        let elements = schemaElements()
        writer.fieldHeader(2, .list)
        writer.listHeader(count: elements.count, .structure)
        for element in elements { writer.element(structure: element) }
        writer.field(3, i64: totalRows)
        writer.fieldHeader(4, .list)
        writer.listHeader(count: rowGroups.count, .structure)
        var bytes = writer.bytes
        for group in rowGroups { bytes += group }
        var rest = ThriftCompactWriter.continuing(afterField: 4)
        if !layout.metadata.isEmpty {
            rest.field(5, list: layout.metadata, of: .structure) { writer, pair in
                writer.element { keyValue in
                    keyValue.field(1, string: pair.0)
                    keyValue.field(2, string: pair.1)
                }
            }
        }
        rest.field(6, string: "fruits parquet writer")
        // Readers trust min_value/max_value only under a declared column order.
        rest.field(7, list: schema.columns, of: .structure) { writer, _ in
            writer.element { order in order.field(1) { _ in } }  // TYPE_ORDER
        }
        rest.endStruct()
        return bytes + rest.bytes
    }

    private func schemaElements() -> [(inout ThriftCompactWriter) -> Void] {
        var elements: [(inout ThriftCompactWriter) -> Void] = [{ root in
            root.field(4, string: "schema")
            root.field(5, i32: Int32(self.schema.columns.count))
        }]
        for column in schema.columns {
            let repetition: Int32 = column.nullable ? 1 : 0  // OPTIONAL : REQUIRED
            switch column.type {
            case .floatList:
                elements.append { list in
                    list.field(3, i32: repetition)
                    list.field(4, string: column.name)
                    list.field(5, i32: 1)
                    list.field(6, i32: 3)  // converted LIST
                    list.field(10) { logical in logical.field(3) { _ in } }  // LIST
                }
                elements.append { repeated in
                    repeated.field(3, i32: 2)  // REPEATED
                    repeated.field(4, string: "list")
                    repeated.field(5, i32: 1)
                }
                elements.append { element in
                    element.field(1, i32: 4)  // FLOAT
                    element.field(3, i32: 0)  // REQUIRED
                    element.field(4, string: "element")
                }
            case .string, .timestamp, .int64, .float:
                elements.append { leaf in
                    leaf.field(1, i32: column.physicalType)
                    leaf.field(3, i32: repetition)
                    leaf.field(4, string: column.name)
                    Self.annotate(&leaf, as: column.type)
                }
            }
        }
        return elements
    }

    /// A primitive column's converted type (field 6) and logical type (10),
    /// which tell readers how to read its bytes or integers.
    private static func annotate(_ leaf: inout ThriftCompactWriter, as type: ParquetSchema.ColumnType) {
        switch type {
        case .string:
            leaf.field(6, i32: 0)  // converted UTF8
            leaf.field(10) { logical in logical.field(1) { _ in } }  // STRING
        case .timestamp:
            leaf.field(6, i32: 10)  // converted TIMESTAMP_MICROS
            leaf.field(10) { logical in
                logical.field(8) { timestamp in
                    timestamp.field(1, bool: true)
                    timestamp.field(2) { unit in unit.field(2) { _ in } }  // MICROS
                }
            }
        case .int64, .float, .floatList:
            break
        }
    }
}
