import CZstd

/// Reads back Parquet files of the kinds `ParquetWriter` writes (flat
/// columns and `list<float>`, PLAIN values, RLE/bit-packed levels, data page
/// v1, uncompressed or ZSTD) — enough for the reducer to re-read its own
/// output. Columns are found by name.
public struct ParquetReader {
    public let rowCount: Int
    public let columnNames: [String]
    /// What every error names: the file's key or path, when the caller gave it.
    public let name: String?
    private let bytes: [UInt8]
    private let leaves: [Leaf]
    private let rowGroups: [ThriftCompactReader.Value]

    private struct Leaf {
        let name: String
        let physicalType: Int64
        let maxRepetition: Int
        let maxDefinition: Int
    }

    public init(bytes: [UInt8], name: String? = nil) throws {
        self.name = name
        let footer: (rowCount: Int, rowGroups: [ThriftCompactReader.Value], leaves: [Leaf])
        do { footer = try Self.footer(of: bytes) } catch let error as ThriftCompactReader.Malformed { throw Self.named(error, name) }
        self.bytes = bytes
        rowCount = footer.rowCount
        rowGroups = footer.rowGroups
        leaves = footer.leaves
        columnNames = leaves.map(\.name)
    }

    private static func footer(of bytes: [UInt8]) throws -> (rowCount: Int, rowGroups: [ThriftCompactReader.Value], leaves: [Leaf]) {
        guard bytes.count >= 12, bytes.prefix(4).elementsEqual("PAR1".utf8), bytes.suffix(4).elementsEqual("PAR1".utf8) else {
            throw ThriftCompactReader.Malformed(description: "not a Parquet file")
        }
        let length = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
            | Int(bytes[bytes.count - 5]) << 24
        guard length < bytes.count - 8 else { throw ThriftCompactReader.Malformed(description: "footer length") }
        var reader = ThriftCompactReader(bytes: bytes, position: bytes.count - 8 - length)
        let footer = try reader.readStruct()
        let rowCount = Int(footer[3]?.int ?? 0)
        guard rowCount >= 0 else { throw Self.malformed("negative row count") }
        let rowGroups = footer[4]?.list ?? []

        // Walk the schema tree: a leaf's levels count its optional/repeated ancestors.
        var leaves: [Leaf] = []
        let elements = footer[2]?.list ?? []
        var index = 1
        func walk(topName: String?, repetition: Int, definition: Int) throws {
            guard index < elements.count else { throw Self.malformed("schema has fewer elements than it announces") }
            guard repetition + definition < 8 else { throw Self.malformed("schema nested too deeply") }
            let element = elements[index]
            index += 1
            let name = element[4]?.string ?? ""
            let kind = element[3]?.int ?? 0
            let rep = repetition + (kind == 2 ? 1 : 0)
            let def = definition + (kind == 0 ? 0 : 1)
            let children = element[5]?.int ?? 0
            guard children >= 0, children < Int64(elements.count) else { throw Self.malformed("schema element with \(children) children") }
            if children == 0 {
                leaves.append(Leaf(name: topName ?? name, physicalType: element[1]?.int ?? -1, maxRepetition: rep, maxDefinition: def))
            } else {
                for _ in 0..<children { try walk(topName: topName ?? name, repetition: rep, definition: def) }
            }
        }
        let top = elements.first?[5]?.int ?? 0
        guard top >= 0, top < Int64(max(elements.count, 1)) else { throw Self.malformed("schema root with \(top) children") }
        for _ in 0..<top { try walk(topName: nil, repetition: 0, definition: 0) }
        return (rowCount, rowGroups, leaves)
    }

    /// The most bytes one column's pages may decode to, values and levels
    /// together: 64 times the file's size (at least 16 MiB). The reducer's
    /// parts decode to about their size (floats and random ids barely
    /// compress); a ZSTD page of zeros decodes to thousands of times its size,
    /// and page after page of them must not exhaust memory.
    public var decodedBytesLimit: Int { max(16 << 20, bytes.count * 64) }

    private static func named(_ error: ThriftCompactReader.Malformed, _ name: String?) -> ThriftCompactReader.Malformed {
        name.map { ThriftCompactReader.Malformed(description: "\($0): \(error.description)") } ?? error
    }

    /// Runs `read`, naming the file in its error.
    private func naming<T>(_ read: () throws -> T) throws -> T {
        do { return try read() } catch let error as ThriftCompactReader.Malformed { throw Self.named(error, name) }
    }

    /// Every value of a string column (nil for nulls).
    public func strings(_ name: String) throws -> [String?] {
        try naming { try column(name).map { values in values.map { $0.map { String(decoding: $0, as: UTF8.self) } } }.flatMap { $0 } }
    }

    /// Every row of a `list<float>` column (nil for null lists).
    public func floatLists(_ name: String) throws -> [[Float]?] {
        try naming { try floatRows(name) }
    }

    private func floatRows(_ name: String) throws -> [[Float]?] {
        guard let leafIndex = leaves.firstIndex(where: { $0.name == name }) else { throw missing(name) }
        let leaf = leaves[leafIndex]
        var rows: [[Float]?] = []
        var budget = decodedBytesLimit
        for group in rowGroups {
            let pages = try pagesOf(group: group, leafIndex: leafIndex, budget: &budget)
            for page in pages {
                var valueIndex = 0
                for (rep, def) in zip(page.repetition, page.definition) {
                    if rep == 0 { rows.append(def == 0 && leaf.maxDefinition == 2 ? nil : []) }
                    if def == leaf.maxDefinition {
                        guard let last = rows.indices.last, rows[last] != nil else { throw Self.malformed("a value outside any list") }
                        let bits = try Self.uint32(page.data, at: page.valuesStart + valueIndex * 4)
                        rows[last]!.append(Float(bitPattern: UInt32(bits)))
                        valueIndex += 1
                    }
                }
            }
        }
        return rows
    }

    private func missing(_ name: String) -> ThriftCompactReader.Malformed {
        ThriftCompactReader.Malformed(description: "no column \(name)")
    }

    /// Byte-array values per row group, for flat columns.
    private func column(_ name: String) throws -> [[[UInt8]?]] {
        guard let leafIndex = leaves.firstIndex(where: { $0.name == name }) else { throw missing(name) }
        let leaf = leaves[leafIndex]
        var budget = decodedBytesLimit
        return try rowGroups.map { group in
            var values: [[UInt8]?] = []
            for page in try pagesOf(group: group, leafIndex: leafIndex, budget: &budget) {
                var position = page.valuesStart
                for def in page.definition {
                    guard def == leaf.maxDefinition else { values.append(nil); continue }
                    let length = try Self.uint32(page.data, at: position)
                    values.append(Array(try Self.slice(page.data, from: position + 4, count: length)))
                    position += 4 + length
                }
            }
            return values
        }
    }

    private struct Page {
        let data: [UInt8]
        let repetition: [UInt8]
        let definition: [UInt8]
        let valuesStart: Int
    }

    /// A column chunk's data pages, decoded; each page's values and levels
    /// are charged to `budget`, which must not run out.
    private func pagesOf(group: ThriftCompactReader.Value, leafIndex: Int, budget: inout Int) throws -> [Page] {
        let leaf = leaves[leafIndex]
        guard let chunks = group[1]?.list, leafIndex < chunks.count, let meta = chunks[leafIndex][3] else {
            throw Self.malformed("row group without column \(leaf.name)")
        }
        let codec = meta[4]?.int ?? 0
        let totalValues = Int(meta[5]?.int ?? 0)
        guard let start = meta[9]?.int, start >= 4, start < Int64(bytes.count) else { throw Self.malformed("column \(leaf.name) starts outside the file") }
        var position = Int(start)
        var pages: [Page] = []
        var seen = 0
        while seen < totalValues {
            var reader = ThriftCompactReader(bytes: bytes, position: position)
            let header = try reader.readStruct()
            let compressedSize = Int(header[3]?.int ?? -1)
            let uncompressedSize = Int(header[2]?.int ?? -1)
            let count = Int(header[5]?[1]?.int ?? -1)
            let body = Array(try Self.slice(bytes, from: reader.position, count: compressedSize))
            position = reader.position + compressedSize
            guard header[1]?.int == 0 else { continue }  // only data pages carry values here
            // Every value takes at least a bit of level data: a larger count is a lie.
            guard count >= 0, count <= totalValues - seen, count <= Self.maximumPageValues,
                  uncompressedSize >= 0, uncompressedSize <= Self.maximumPageSize else {
                throw Self.malformed("page of column \(leaf.name) with \(count) values in \(uncompressedSize) bytes")
            }
            // The page's data and its two level arrays (a byte per value each).
            let decoded = (codec == 6 ? uncompressedSize : body.count) + 2 * count
            guard decoded <= budget else {
                throw Self.malformed("column \(leaf.name) decodes to more than \(decodedBytesLimit) bytes, "
                    + "the most a file of \(bytes.count) bytes may hold (64 times its size, at least 16 MiB)")
            }
            budget -= decoded
            let data = codec == 6 ? try Self.unzstd(body, size: uncompressedSize) : body
            var offset = 0
            let repetition = leaf.maxRepetition > 0
                ? try LevelDecoder.decode(data, at: &offset, count: count, maximum: leaf.maxRepetition) : [UInt8](repeating: 0, count: count)
            let definition = leaf.maxDefinition > 0
                ? try LevelDecoder.decode(data, at: &offset, count: count, maximum: leaf.maxDefinition)
                : [UInt8](repeating: 0, count: count)
            pages.append(Page(data: data, repetition: repetition, definition: definition, valuesStart: offset))
            seen += count
        }
        return pages
    }

    /// Larger than any page the writer makes (one row group of a flush); it
    /// bounds what a hostile header can make the reader allocate.
    static let maximumPageSize = 1 << 30
    static let maximumPageValues = 1 << 27

    static func malformed(_ why: String) -> ThriftCompactReader.Malformed { ThriftCompactReader.Malformed(description: why) }

    /// `count` bytes of `data` from `start`, or an error if they are not all there.
    static func slice(_ data: [UInt8], from start: Int, count: Int) throws -> ArraySlice<UInt8> {
        guard start >= 0, count >= 0, count <= data.count - start else { throw malformed("\(count) bytes at \(start) past the end") }
        return data[start..<(start + count)]
    }

    /// A little-endian UInt32 at `offset`.
    static func uint32(_ data: [UInt8], at offset: Int) throws -> Int {
        let bytes = try slice(data, from: offset, count: 4)
        return bytes.reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    private static func unzstd(_ body: [UInt8], size: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        let written = output.withUnsafeMutableBytes { out in
            body.withUnsafeBytes { input in ZSTD_decompress(out.baseAddress, size, input.baseAddress, input.count) }
        }
        guard ZSTD_isError(written) == 0, written == size else {
            throw ThriftCompactReader.Malformed(description: "ZSTD page does not decompress")
        }
        return output
    }
}

/// The RLE/bit-packed hybrid, length-prefixed as in data page v1.
enum LevelDecoder {
    static func decode(_ data: [UInt8], at offset: inout Int, count: Int, maximum: Int) throws -> [UInt8] {
        let length = try ParquetReader.uint32(data, at: offset)
        var position = offset + 4
        let end = position + length
        guard end <= data.count else { throw ParquetReader.malformed("levels past the end of the page") }
        offset = end
        func byte(_ index: Int) throws -> UInt8 {
            guard index < end else { throw ParquetReader.malformed("levels run past their length") }
            return data[index]
        }
        let width = LevelEncoder.bitWidth(ofMaximum: maximum)
        var levels: [UInt8] = []
        levels.reserveCapacity(count)
        while levels.count < count && position < end {
            var header: UInt64 = 0, shift: UInt64 = 0
            while true {
                let next = try byte(position)
                position += 1
                header |= UInt64(next & 0x7F) << shift
                if next & 0x80 == 0 { break }
                shift += 7
                guard shift < 64 else { throw ParquetReader.malformed("level run header too long") }
            }
            // Runs are capped at what is still needed: a hostile run length
            // must not make the reader allocate more than the page's values.
            let needed = count - levels.count
            if header & 1 == 0 {
                let run = min(Int(truncatingIfNeeded: header >> 1), needed)
                var value = 0
                for i in 0..<((width + 7) / 8) { value |= Int(try byte(position + i)) << (8 * i) }
                position += (width + 7) / 8
                levels += [UInt8](repeating: UInt8(truncatingIfNeeded: value), count: max(run, 0))
            } else {
                let groups = min(Int(truncatingIfNeeded: header >> 1), (needed + 7) / 8)
                guard groups >= 0, groups * width <= end - position else { throw ParquetReader.malformed("bit-packed levels past their length") }
                var bitPosition = 0
                for _ in 0..<(groups * 8) {
                    var value = 0
                    for bit in 0..<width where data[position + (bitPosition + bit) / 8] & (1 << ((bitPosition + bit) % 8)) != 0 {
                        value |= 1 << bit
                    }
                    bitPosition += width
                    levels.append(UInt8(truncatingIfNeeded: value))
                }
                position += groups * width
            }
        }
        guard levels.count >= count else { throw ThriftCompactReader.Malformed(description: "levels run short") }
        return Array(levels.prefix(count))
    }
}
