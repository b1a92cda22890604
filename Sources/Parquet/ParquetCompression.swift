import CZstd

/// Page compression codecs (Parquet's CompressionCodec values).
public enum ParquetCompression: Sendable {
    case none
    case zstd(level: Int32)

    var codec: Int32 {
        switch self {
        case .none: 0
        case .zstd: 6
        }
    }

    func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .none:
            return bytes
        case .zstd(let level):
            var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
            let written = output.withUnsafeMutableBytes { out in
                bytes.withUnsafeBytes { input in
                    ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level)
                }
            }
            if ZSTD_isError(written) != 0 {
                throw ParquetError.compression(String(cString: ZSTD_getErrorName(written)))
            }
            output.removeSubrange(written...)
            return output
        }
    }
}

public enum ParquetError: Error, CustomStringConvertible, Equatable {
    case wrongColumnCount(expected: Int, got: Int)
    case wrongType(column: String, expected: ParquetSchema.ColumnType)
    case nullInRequiredColumn(String)
    case compression(String)
    case closed

    public var description: String {
        switch self {
        case .wrongColumnCount(let expected, let got): "a row needs \(expected) values, got \(got)"
        case .wrongType(let column, let expected): "column \(column) holds \(expected) values"
        case .nullInRequiredColumn(let column): "column \(column) is not nullable"
        case .compression(let why): "page compression failed: \(why)"
        case .closed: "the Parquet writer is closed"
        }
    }
}
