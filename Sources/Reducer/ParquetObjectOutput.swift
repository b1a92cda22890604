import ObjectStorage
import Parquet

/// Collects the file and stores it as one object on close (S3 uploads in
/// parts from 16 MiB on), so a reader never sees a partial file.
public final class ParquetObjectOutput: ParquetOutput {
    public let store: any ObjectStore
    public let key: String
    private var buffer: [UInt8] = []

    public init(store: any ObjectStore, key: String) {
        self.store = store
        self.key = key
    }

    public func write(_ bytes: [UInt8]) throws { buffer += bytes }

    public func close() throws {
        try store.put(key, buffer, contentType: "application/vnd.apache.parquet")
        buffer = []
    }
}
