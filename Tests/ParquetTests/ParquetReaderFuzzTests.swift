import TestSupport
import Testing

@testable import Parquet

/// The reader meets files it did not write (someone else's, a truncated
/// upload, bit rot): it must throw, never trap. A trap would end the test
/// process, so every case here is "survived".
@Suite("Parquet reader: hostile files give errors, never a crash")
struct ParquetReaderFuzzTests {
    /// A features-like file: strings, a nullable string and list<float>, in
    /// two row groups, compressed or not.
    static func sample(compression: ParquetCompression) throws -> [UInt8] {
        let output = ParquetMemoryOutput()
        let schema = ParquetSchema([.init("image_id", .string), .init("label", .string, nullable: true),
                                    .init("features", .floatList, nullable: true)])
        var layout = ParquetWriter.Layout()
        layout.rowGroupRows = 20
        layout.compression = compression
        let writer = try ParquetWriter(schema: schema, output: output, layout: layout)
        for i in 0..<30 {
            try writer.append([.string("id-\(i)"), .string(i % 4 == 0 ? nil : "Apple"),
                               .floatList(i % 5 == 0 ? nil : (0..<(i % 7)).map { Float($0) + 0.5 })])
        }
        try writer.close()
        return output.bytes
    }

    /// Reads everything a caller would; errors are fine.
    static func readAll(_ bytes: [UInt8]) {
        guard let reader = try? ParquetReader(bytes: bytes) else { return }
        _ = try? reader.strings("image_id")
        _ = try? reader.strings("label")
        _ = try? reader.floatLists("features")
        _ = try? reader.strings("features")
        _ = try? reader.floatLists("image_id")
    }

    @Test(arguments: [ParquetCompression.zstd(level: 3), .none])
    func theSampleReadsBack(compression: ParquetCompression) throws {
        let reader = try ParquetReader(bytes: try Self.sample(compression: compression))
        #expect(try reader.strings("image_id").count == 30)
        #expect(try reader.floatLists("features")[6] == [0, 1, 2, 3, 4, 5].map { Float($0) + 0.5 })
    }

    @Test(arguments: [ParquetCompression.zstd(level: 3), .none])
    func everyTruncationThrows(compression: ParquetCompression) throws {
        let bytes = try Self.sample(compression: compression)
        for length in 0..<bytes.count {
            // Keep the trailing magic so the reader gets past its first check.
            Self.readAll(Array(bytes.prefix(length)) + Array("PAR1".utf8))
            Self.readAll(Array(bytes.prefix(length)))
        }
    }

    /// 20,000 mutants per codec: 1 to 8 bytes set to random values, or a
    /// 4-byte little-endian integer overwritten with an extreme value, at
    /// positions weighted towards the footer, where the offsets live.
    @Test(arguments: [ParquetCompression.zstd(level: 3), .none])
    func mutatedFilesNeverTrap(compression: ParquetCompression) throws {
        let bytes = try Self.sample(compression: compression)
        var generator = SplitMix64(seed: 0xF00D)
        let extremes: [UInt32] = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]
        for _ in 0..<20_000 {
            var mutant = bytes
            let nearFooter = Int.random(in: 0..<2, using: &generator) == 0
            let low = nearFooter ? max(0, bytes.count - 600) : 0
            if Int.random(in: 0..<3, using: &generator) == 0 {
                let at = Int.random(in: low..<(bytes.count - 4), using: &generator)
                let value = extremes.randomElement(using: &generator)!
                for i in 0..<4 { mutant[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
            } else {
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    mutant[Int.random(in: low..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            Self.readAll(mutant)
        }
    }

    /// Deep nesting in the footer: bounded recursion, an error.
    @Test func deeplyNestedThriftThrows() {
        // A struct field (id delta 1, type 12) opening a struct, 100,000 times.
        let footer = [UInt8](repeating: 0x1C, count: 100_000)
        var file = Array("PAR1".utf8) + footer
        let length = UInt32(footer.count)
        file += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + Array("PAR1".utf8)
        #expect(throws: (any Error).self) { try ParquetReader(bytes: file) }
    }

    /// A file of `rows` lists of 262,144 zeros: 1 MiB of floats per row, a
    /// few dozen bytes each once compressed.
    static func zeros(rows: Int) throws -> [UInt8] {
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(schema: ParquetSchema([.init("v", .floatList)]), output: output, layout: .init())
        for _ in 0..<rows { try writer.append([.floatList([Float](repeating: 0, count: 1 << 18))]) }
        try writer.close()
        return output.bytes
    }

    /// Pages each within the page limit, summed past what the file's size
    /// can hold: an error naming the file, before the memory is taken.
    @Test func aDecompressionBombThrowsNamingTheFile() throws {
        let bomb = try Self.zeros(rows: 40)
        #expect(bomb.count < 100_000, "\(bomb.count) bytes")
        let reader = try ParquetReader(bytes: bomb, name: "results/bomb.parquet")
        #expect { try reader.floatLists("v") } throws: { error in
            "\(error)".hasPrefix("results/bomb.parquet: ") && "\(error)".contains("decodes to more than")
        }
        // The same kind of file, under the limit, reads.
        #expect(try ParquetReader(bytes: try Self.zeros(rows: 8), name: "small.parquet").floatLists("v").count == 8)
    }

    @Test func everyErrorNamesTheFile() throws {
        #expect { try ParquetReader(bytes: [1, 2, 3], name: "s3://b/x.parquet") } throws: { "\($0)" == "s3://b/x.parquet: not a Parquet file" }
        let reader = try ParquetReader(bytes: try Self.sample(compression: .none), name: "x.parquet")
        #expect { try reader.strings("nothing") } throws: { "\($0)" == "x.parquet: no column nothing" }
    }
}
