import Foundation
import TestSupport
import Testing

@testable import Parquet

@Suite("Parquet files read back identically with pyarrow and DuckDB", .tags(.integration))
struct ParquetWriterTests {
    static let schema = ParquetSchema([
        .init("id", .string),
        .init("label", .string, nullable: true),
        .init("count", .int64),
        .init("taken_at", .timestamp),
        .init("score", .float, nullable: true),
        .init("features", .floatList, nullable: true),
    ])

    /// Keep in sync with `expected_row` in tools/check_parquet.py.
    static func row(_ i: Int) -> [ParquetValue] {
        [
            .string("image-\(i)" + (i % 7 == 0 ? " 🍎 façade+x" : "")),
            .string(i % 11 == 0 ? nil : "label-\(i % 13)"),
            .int64(Int64(i * 7 - 3000)),
            .timestamp(1_700_000_000_000_000 + Int64(i) * 1_000_003),
            .float(i % 5 == 0 ? nil : Float(i) * 0.25 - 100),
            .floatList(i % 17 == 0 ? nil : (i % 3 == 0 ? [] : (0...(i % 9)).map { Float(i) + Float($0) * 0.5 })),
        ]
    }

    static func check(_ path: String, rows: Int, minRowGroups: Int) async throws -> (status: Int32, output: String) {
        try await Tools.run(Tools.python, [Tools.root.appendingPathComponent("tools/check_parquet.py").path, path, "\(rows)", "\(minRowGroups)"])
    }

    @Test(arguments: [ParquetCompression.zstd(level: 3), .none])
    func hundredThousandRowsInSeveralRowGroups(compression: ParquetCompression) async throws {
        let path = Tools.temporaryPath("parquet-\(compression.codec).parquet")
        var layout = ParquetWriter.Layout()
        layout.rowGroupRows = 30_000
        layout.pageBytes = 64 << 10
        layout.compression = compression
        layout.metadata = [("fruits.test", "1")]
        let writer = try ParquetWriter(schema: Self.schema, output: ParquetFileOutput(path: path), layout: layout)
        for i in 0..<100_000 { try writer.append(Self.row(i)) }
        try writer.close()
        let result = try await Self.check(path, rows: 100_000, minRowGroups: 4)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func oracleCatchesAWrongValue() async throws {
        // The checker must fail when a value differs, or the test above proves nothing.
        let path = Tools.temporaryPath("parquet-wrong.parquet")
        let writer = try ParquetWriter(schema: Self.schema, output: ParquetFileOutput(path: path))
        for i in 0..<100 {
            var row = Self.row(i)
            if i == 42 { row[2] = .int64(7) }
            try writer.append(row)
        }
        try writer.close()
        #expect(try await Self.check(path, rows: 100, minRowGroups: 1).status != 0)
    }

    @Test(arguments: [ParquetCompression.zstd(level: 1), .none])
    func ownReaderRoundTrips(compression: ParquetCompression) throws {
        let output = ParquetMemoryOutput()
        var layout = ParquetWriter.Layout()
        layout.rowGroupRows = 700
        layout.pageBytes = 4096
        layout.compression = compression
        let writer = try ParquetWriter(schema: Self.schema, output: output, layout: layout)
        for i in 0..<2000 { try writer.append(Self.row(i)) }
        try writer.close()
        let reader = try ParquetReader(bytes: output.bytes)
        #expect(reader.rowCount == 2000)
        #expect(reader.columnNames == ["id", "label", "count", "taken_at", "score", "features"])
        let expected = (0..<2000).map(Self.row)
        #expect(try reader.strings("id") == expected.map { if case .string(let v) = $0[0] { v } else { nil } })
        #expect(try reader.strings("label") == expected.map { if case .string(let v) = $0[1] { v } else { nil } })
        #expect(try reader.floatLists("features") == expected.map { if case .floatList(let v) = $0[5] { v } else { nil } })
    }

    @Test func rowsAreValidatedAgainstTheSchema() throws {
        let writer = try ParquetWriter(schema: Self.schema, output: ParquetMemoryOutput())
        var row = Self.row(1)
        row[0] = .string(nil)
        #expect(throws: ParquetError.nullInRequiredColumn("id")) { try writer.append(row) }
        row = Self.row(1)
        row[2] = .float(1)
        #expect(throws: ParquetError.wrongType(column: "count", expected: .int64)) { try writer.append(row) }
        #expect(throws: ParquetError.wrongColumnCount(expected: 6, got: 1)) { try writer.append([.int64(1)]) }
    }

    @Test func emptyFileIsStillValid() throws {
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(schema: Self.schema, output: output)
        try writer.close()
        #expect(output.bytes.prefix(4).elementsEqual("PAR1".utf8))
        #expect(output.bytes.suffix(4).elementsEqual("PAR1".utf8))
    }

    @Test func levelsAreRunLengthEncoded() {
        // 3 zeros then 2 ones at bit width 1: runs (3<<1, 0) and (2<<1, 1), after a 4-byte length.
        #expect(LevelEncoder.encode([0, 0, 0, 1, 1], maximum: 1) == [4, 0, 0, 0, 6, 0, 4, 1])
    }

    @Test func thriftFieldHeadersUseDeltas() {
        var writer = ThriftCompactWriter()
        writer.field(1, i32: -1)   // delta 1, type i32, zigzag(-1) = 1
        writer.field(20, i64: 150) // delta 19 > 15: long form, id zigzag 40, value zigzag 300 = [0xAC, 0x02]
        #expect(writer.bytes == [0x15, 0x01, 0x06, 40, 0xAC, 0x02])
    }
}
