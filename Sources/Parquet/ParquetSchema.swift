/// The columns of a Parquet file. Each is nullable or not; lists use the
/// standard three-level LIST layout with required elements.
public struct ParquetSchema: Sendable {
    public enum ColumnType: Sendable, Equatable {
        /// BYTE_ARRAY annotated STRING (UTF-8).
        case string
        case int64
        /// INT64 annotated TIMESTAMP(isAdjustedToUTC, MICROS).
        case timestamp
        case float
        /// `list<float>`: optional group (LIST) { repeated group list { required float element } }.
        case floatList
    }

    public struct Column: Sendable {
        public let name: String
        public let type: ColumnType
        public let nullable: Bool

        public init(_ name: String, _ type: ColumnType, nullable: Bool = false) {
            self.name = name
            self.type = type
            self.nullable = nullable
        }

        var maxRepetitionLevel: Int { type == .floatList ? 1 : 0 }
        var maxDefinitionLevel: Int { (nullable ? 1 : 0) + (type == .floatList ? 1 : 0) }
        var physicalType: Int32 {
            switch type {
            case .string: 6  // BYTE_ARRAY
            case .int64, .timestamp: 2  // INT64
            case .float, .floatList: 4  // FLOAT
            }
        }
        var pathInSchema: [String] { type == .floatList ? [name, "list", "element"] : [name] }
    }

    public let columns: [Column]

    public init(_ columns: [Column]) {
        precondition(!columns.isEmpty, "a Parquet schema needs a column")
        precondition(Set(columns.map(\.name)).count == columns.count, "column names must be unique")
        self.columns = columns
    }
}

/// One cell. `nil` payloads are nulls (allowed in nullable columns only).
public enum ParquetValue: Sendable, Equatable {
    case string(String?)
    case int64(Int64?)
    /// Microseconds since the Unix epoch, UTC.
    case timestamp(Int64?)
    case float(Float?)
    case floatList([Float]?)

    var isNull: Bool {
        switch self {
        case .string(let v): v == nil
        case .int64(let v): v == nil
        case .timestamp(let v): v == nil
        case .float(let v): v == nil
        case .floatList(let v): v == nil
        }
    }

    func matches(_ type: ParquetSchema.ColumnType) -> Bool {
        switch (self, type) {
        case (.string, .string), (.int64, .int64), (.timestamp, .timestamp), (.float, .float), (.floatList, .floatList): true
        default: false
        }
    }
}
